// Where the user is: the community open and the channel last open in each,
// kept per user in localStorage so a reload (or a restart) lands there.

import { useCallback, useState } from "react";
import type { ID, Key } from "@/api/types";

export interface Place {
  community: ID | null;
  /** Per community, the channel last open there. */
  channels: Readonly<Record<ID, ID>>;
}

const storageKey = (user: Key) => `ancore.place.${user}`;

function load(user: Key): Place {
  try {
    const v: unknown = JSON.parse(window.localStorage.getItem(storageKey(user)) ?? "null");
    if (typeof v === "object" && v !== null) {
      const { community, channels } = v as Record<string, unknown>;
      const ch = typeof channels === "object" && channels !== null ? (channels as Record<string, unknown>) : {};
      return {
        community: typeof community === "string" ? community : null,
        channels: Object.fromEntries(Object.entries(ch).filter((e): e is [string, string] => typeof e[1] === "string")),
      };
    }
  } catch {
    // Unreadable: start afresh.
  }
  return { community: null, channels: {} };
}

/** The place, and going to a community (its last channel) or a channel in it. */
export function usePlace(user: Key) {
  const [place, setPlace] = useState<Place>(() => load(user));
  const go = useCallback(
    (community: ID, channel?: ID | null) => {
      setPlace((p) => {
        const next: Place = {
          community,
          channels: channel ? { ...p.channels, [community]: channel } : p.channels,
        };
        try {
          window.localStorage.setItem(storageKey(user), JSON.stringify(next));
        } catch {
          // Kept for this page's life.
        }
        return next;
      });
    },
    [user],
  );
  return { place, go };
}
