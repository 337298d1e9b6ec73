// Mentions while typing: the composer shows a mention as "@Name" and the
// message carries it as the <@user-key> token that src/lib/markdown.tsx
// renders. Typing "@" and letters offers the community's members whose
// display name matches; picking one writes "@Name " and remembers whose
// key that name stands for, and sending turns each remembered "@Name"
// into its token. Editing a sent message turns its tokens back.

import type { Key, MessageCreate } from "@/api/types";
import { mentionToken, mentionedUsers, mentionsEveryone } from "./markdown";

/** Someone who can be mentioned. */
export interface Mentionable {
  user: Key;
  name: string;
}

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
 * The members a query matches, best first: those whose name starts with
 * it, then those with a later word that does, each by name; at most
 * maxSuggestions.
 */
export function matchMembers<T extends Mentionable>(members: readonly T[], query: string): T[] {
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
export function insertMention(text: string, q: MentionQuery, who: Mentionable): { text: string; caret: number } {
  const written = `@${who.name} `;
  const end = q.start + 1 + q.query.length;
  const rest = text.slice(end).replace(/^ /, "");
  return { text: text.slice(0, q.start) + written + rest, caret: q.start + written.length };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The text to send: each "@Name" of a picked member, where it is not
 * followed by more of a word, becomes that member's token (longer names
 * first, so "@Al" never eats "@Alice").
 */
export function encodeMentions(text: string, picked: readonly Mentionable[]): string {
  const byName = new Map<string, Key>();
  for (const p of picked) if (!byName.has(p.name)) byName.set(p.name, p.user);
  const names = [...byName.keys()].filter(Boolean).sort((a, b) => b.length - a.length);
  if (names.length === 0) return text;
  const pattern = new RegExp(`@(${names.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}_])`, "gu");
  return text.replace(pattern, (_, name: string) => mentionToken(byName.get(name) as Key));
}

/** A sent text as the composer shows it: tokens as "@Name", and who each stands for. */
export function decodeMentions(text: string, nameOf: (user: Key) => string | undefined): { text: string; picked: Mentionable[] } {
  const picked: Mentionable[] = [];
  const shown = text.replace(/<@([a-z2-7]{52})>/g, (token, user: Key) => {
    const name = nameOf(user);
    if (name === undefined) return token;
    if (!picked.some((p) => p.user === user)) picked.push({ user, name });
    return `@${name}`;
  });
  return { text: shown, picked };
}

/** What a message's text mentions, as the send and edit requests carry it. */
export function mentionFields(text: string): Required<Pick<MessageCreate, "mentions" | "everyone">> {
  return { mentions: mentionedUsers(text), everyone: mentionsEveryone(text) };
}
