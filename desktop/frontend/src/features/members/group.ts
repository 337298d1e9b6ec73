// The member list's sections, Discord's way: online members under their
// highest role (every role but @everyone is shown apart), highest role
// first; online members without a role under "Online"; everyone offline
// under "Offline". Live presence from the event stream overrides the
// status the member list was fetched with.

import type { ID, Key, Member, PresenceStatus, Role } from "@/api/types";

export interface MemberRow {
  member: Member;
  status: PresenceStatus;
}

export interface MemberSection {
  /** The role's ID, "online" or "offline". */
  key: string;
  title: string;
  /** The role the section is for; absent for Online and Offline. */
  role?: Role;
  rows: MemberRow[];
}

/** Roles highest first; ties by ID, so the order is the same everywhere. */
export function byPosition(roles: readonly Role[]): Role[] {
  return [...roles].sort((a, b) => b.position - a.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The member's highest role among those given (not @everyone: members' roles never list it). */
export function highestRole(member: Pick<Member, "roles">, ranked: readonly Role[], where: (r: Role) => boolean = () => true): Role | undefined {
  return ranked.find((r) => member.roles.includes(r.id) && where(r));
}

const byName = (a: MemberRow, b: MemberRow) =>
  a.member.name.localeCompare(b.member.name, undefined, { sensitivity: "base" }) || (a.member.user < b.member.user ? -1 : 1);

export function groupMembers(
  members: readonly Member[],
  roles: readonly Role[],
  presence: Readonly<Record<Key, PresenceStatus>> = {},
  everyone?: ID,
): MemberSection[] {
  const ranked = byPosition(roles.filter((r) => r.id !== everyone));
  const byRole = new Map<ID, MemberRow[]>();
  const online: MemberRow[] = [];
  const offline: MemberRow[] = [];
  for (const member of members) {
    if (member.state !== "joined") continue;
    const row = { member, status: presence[member.user] ?? member.status };
    if (row.status === "offline") {
      offline.push(row);
      continue;
    }
    const top = highestRole(member, ranked);
    if (!top) online.push(row);
    else byRole.set(top.id, [...(byRole.get(top.id) ?? []), row]);
  }
  const sections: MemberSection[] = [];
  for (const role of ranked) {
    const rows = byRole.get(role.id);
    if (rows) sections.push({ key: role.id, title: role.name, role, rows: rows.sort(byName) });
  }
  if (online.length) sections.push({ key: "online", title: "Online", rows: online.sort(byName) });
  if (offline.length) sections.push({ key: "offline", title: "Offline", rows: offline.sort(byName) });
  return sections;
}

/** What messages need of the members: names, name colours and roles by ID. */
export interface MemberLookup {
  nameOf(user: Key): string | undefined;
  memberOf(user: Key): Member | undefined;
  /** The colour of the member's highest coloured role; 0 for none. */
  roleColorOf(user: Key): number;
  roleOf(id: ID): { name: string; color: number } | undefined;
  /** The member's avatar tag; undefined for none. */
  avatarOf(user: Key): string | undefined;
}

export function memberLookup(members: readonly Member[], roles: readonly Role[]): MemberLookup {
  const byUser = new Map(members.map((m) => [m.user, m]));
  const byId = new Map(roles.map((r) => [r.id, r]));
  const ranked = byPosition(roles);
  const colors = new Map<Key, number>();
  return {
    nameOf: (user) => byUser.get(user)?.name,
    memberOf: (user) => byUser.get(user),
    avatarOf: (user) => byUser.get(user)?.avatar,
    roleColorOf: (user) => {
      let c = colors.get(user);
      if (c === undefined) {
        const m = byUser.get(user);
        c = (m && highestRole(m, ranked, (r) => r.color !== 0)?.color) ?? 0;
        colors.set(user, c);
      }
      return c;
    },
    roleOf: (id) => {
      const r = byId.get(id);
      return r && { name: r.name, color: r.color };
    },
  };
}
