// What to tell the local user when a community leaves them: its owner
// dissolved it, or they were kicked or banned. Without a word the
// community would silently vanish from the rail.

import type { ApiEvent, ID, Key } from "@/api/types";

/** The sentence for an event that takes a community away from the local user; null for any other event. */
export function departureNotice(ev: ApiEvent, self: Key, nameOf: (community: ID) => string | undefined): string | null {
  const named = (id: ID, name?: string) => name || nameOf(id) || "a community";
  switch (ev.type) {
    case "community:update":
      return ev.data.dissolved ? `${named(ev.data.id, ev.data.name)} was dissolved by its owner` : null;
    case "member:leave": {
      const { community, member } = ev.data;
      if (member.user !== self) return null;
      if (member.state === "kicked") return `You were removed from ${named(community)}`;
      if (member.state === "banned") return `You were banned from ${named(community)}`;
      return null;
    }
    default:
      return null;
  }
}
