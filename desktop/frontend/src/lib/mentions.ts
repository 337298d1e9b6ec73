// Mentions while typing: the composer shows a mention as "@Name" and the
// message carries it as a token that src/lib/markdown.tsx renders — <@key>
// for a member, <@&id> for a role; @everyone is written as it is. Typing
// "@" and letters offers the community's members and roles whose name
// matches (and @everyone); picking one writes "@Name " and remembers what
// that name stands for, and sending turns each remembered "@Name" into its
// token. Editing a sent message turns its tokens back.

import type { ID, Key, Message, MessageCreate } from "@/api/types";
import { mentionToken, mentionedRoles, mentionedUsers, mentionsEveryone, roleMentionToken } from "./markdown";

/** A member who can be mentioned. */
export interface Mentionable {
  user: Key;
  name: string;
}

/** A role that can be mentioned. */
export interface MentionableRole {
  role: ID;
  name: string;
}

/** What a "@Name" in a draft stands for. */
export type Picked = Mentionable | MentionableRole;

/** The "@letters" being typed just before the caret. */
export interface MentionQuery {
  /** Where the "@" is. */
  start: number;
  /** The letters after it, as typed. */
  query: string;
}

/** How many members the popup offers at most. */
export const maxSuggestions = 8;

const queryChar = /[\p{L}\p{N}_.-]/u;
const wordChar = /[\p{L}\p{N}_]/u;

/** The mention being typed when the caret ends "@letters" that start a word; null otherwise. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && queryChar.test(text[i - 1] as string)) i--;
  if (text[i - 1] !== "@") return null;
  const start = i - 1;
  const before = text[start - 1];
  if (before !== undefined && wordChar.test(before)) return null;
  return { start, query: text.slice(i, caret) };
}

/**
 * The candidates a query matches, best first: those whose name starts
 * with it, then those with a later word that does, each by name; at most
 * maxSuggestions.
 */
export function matchMembers<T extends { name: string }>(members: readonly T[], query: string): T[] {
  const q = query.toLocaleLowerCase();
  const rank = (m: T) => {
    const name = m.name.toLocaleLowerCase();
    if (name.startsWith(q)) return 0;
    return name.split(/\s+/).some((w) => w.startsWith(q)) ? 1 : -1;
  };
  return members
    .map((m) => ({ m, r: rank(m) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.m.name.localeCompare(b.m.name))
    .slice(0, maxSuggestions)
    .map((x) => x.m);
}

/** The text with the query replaced by "@Name " and where the caret goes after it. */
export function insertMention(text: string, q: MentionQuery, who: { name: string }): { text: string; caret: number } {
  const written = `@${who.name} `;
  const end = q.start + 1 + q.query.length;
  const rest = text.slice(end).replace(/^ /, "");
  return { text: text.slice(0, q.start) + written + rest, caret: q.start + written.length };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function tokenOf(p: Picked): string {
  return "role" in p ? roleMentionToken(p.role) : mentionToken(p.user);
}

/**
 * The text to send: each "@Name" of a picked member or role, where it is
 * not followed by more of a word, becomes its token (longer names first,
 * so "@Al" never eats "@Alice"; of two picks with one name, the first).
 */
export function encodeMentions(text: string, picked: readonly Picked[]): string {
  const byName = new Map<string, Picked>();
  for (const p of picked) if (!byName.has(p.name)) byName.set(p.name, p);
  const names = [...byName.keys()].filter(Boolean).sort((a, b) => b.length - a.length);
  if (names.length === 0) return text;
  const pattern = new RegExp(`@(${names.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}_])`, "gu");
  return text.replace(pattern, (_, name: string) => tokenOf(byName.get(name) as Picked));
}

/**
 * A sent text as the composer shows it: member and role tokens as "@Name",
 * and what each stands for. A token whose member or role is unknown stays.
 */
export function decodeMentions(
  text: string,
  nameOf: (user: Key) => string | undefined,
  roleNameOf: (role: ID) => string | undefined = () => undefined,
): { text: string; picked: Picked[] } {
  const picked: Picked[] = [];
  const shown = text.replace(/<@(?:&(b[a-z2-7]+)|([a-z2-7]{52}))>/g, (token, role: string | undefined, user: Key | undefined) => {
    if (role !== undefined) {
      const name = roleNameOf(role);
      if (name === undefined) return token;
      if (!picked.some((p) => "role" in p && p.role === role)) picked.push({ role, name });
      return `@${name}`;
    }
    const name = nameOf(user as Key);
    if (name === undefined) return token;
    if (!picked.some((p) => "user" in p && p.user === user)) picked.push({ user: user as Key, name });
    return `@${name}`;
  });
  return { text: shown, picked };
}

/** What a message's text mentions, as the send and edit requests carry it. */
export function mentionFields(text: string): Required<Pick<MessageCreate, "mentions" | "everyone">> {
  return { mentions: mentionedUsers(text), everyone: mentionsEveryone(text) };
}

/**
 * Whether a message mentions the local user: by name, through @everyone,
 * or through a role they hold. The row is tinted for it.
 */
export function mentionsMe(message: Pick<Message, "mentions" | "everyone" | "text">, self: Key, myRoles: readonly ID[]): boolean {
  if (message.everyone || message.mentions.includes(self)) return true;
  if (myRoles.length === 0 || !message.text.includes("<@&")) return false;
  return mentionedRoles(message.text).some((r) => myRoles.includes(r));
}
