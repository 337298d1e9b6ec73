// The rows of a channel's message list: messages, a separator wherever the
// local date changes, and the divider above the first unread message. A
// message that continues its author's run (same author, within 7 minutes
// of the one before, no separator between them, not a reply) is shown
// without its header.
// One flat list, so a virtualized list can measure each row on its own.

import type { ID, Key, Message, Timestamp } from "@/api/types";

/** Consecutive messages of one author this close together form a group. */
export const groupWindowMs = 7 * 60 * 1000;

export type Row =
  /** Starts a local calendar day; day is its YYYY-MM-DD. */
  | { kind: "day"; key: string; day: string }
  /** Above the first message the user has not read. */
  | { kind: "unread"; key: string }
  /** first: the message starts a group, so it shows its author. */
  | { kind: "message"; key: ID; message: Message; first: boolean };

/** How far the user has read: the last message read, or the time of it. */
export interface LastRead {
  id?: ID;
  at?: Timestamp;
}

export interface RowOptions {
  /** Absent or null: no unread divider. */
  lastRead?: LastRead | null;
  /** The local user: their own messages are never unread. */
  self?: Key;
  /**
   * Older messages exist than the first given (they are not loaded), so a
   * last read time before the first message does not place the divider.
   */
  hasOlder?: boolean;
}

/** A date's YYYY-MM-DD in the local time zone. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

interface When {
  time: number;
  day: string;
}

// A message object never changes (state is replaced, not mutated), so its
// time and local day are worked out once.
const whenOf = new WeakMap<Message, When>();

function when(m: Message): When {
  let w = whenOf.get(m);
  if (w === undefined) {
    const time = Date.parse(m.created_at);
    w = { time, day: localDay(new Date(time)) };
    whenOf.set(m, w);
  }
  return w;
}

/**
 * Where the messages after the last read one start in a channel's ordered
 * messages: after the last read message, or failing that after its time;
 * -1 when that is not among them.
 */
export function readBoundary(messages: readonly Message[], lastRead: LastRead): number {
  if (lastRead.id !== undefined) {
    const read = messages.findIndex((m) => m.id === lastRead.id);
    if (read >= 0) return read + 1;
  }
  if (lastRead.at === undefined) return -1;
  const at = Date.parse(lastRead.at);
  return messages.findIndex((m) => when(m).time > at);
}

/**
 * The index of the first unread message in a channel's ordered messages,
 * or -1: the first after the read boundary not written by the local user.
 */
export function firstUnread(messages: readonly Message[], lastRead: LastRead | null | undefined, self?: Key, hasOlder = false): number {
  if (!lastRead) return -1;
  const start = readBoundary(messages, lastRead);
  // 0 means everything given is newer than the last read time: with older
  // messages not loaded, the boundary may lie among them.
  if (start < 0 || (start === 0 && hasOlder)) return -1;
  for (let i = start; i < messages.length; i++) {
    if ((messages[i] as Message).author !== self) return i;
  }
  return -1;
}

/**
 * The rows for a channel's messages, which must be in channel order.
 * Given the rows built before, a row that shows the same thing is that
 * very object, so a memoized row component skips it.
 */
export function messageRows(messages: readonly Message[], options: RowOptions = {}, previous: readonly Row[] = []): Row[] {
  const rows: Row[] = [];
  const unread = firstUnread(messages, options.lastRead, options.self, options.hasOlder);
  const before = new Map<string, Row>();
  for (const r of previous) if (r.kind === "message") before.set(r.key, r);
  let prev: { author: Key; time: number; day: string } | null = null;
  messages.forEach((message, i) => {
    const { time, day } = when(message);
    let first = true;
    if (prev === null || prev.day !== day) {
      rows.push({ kind: "day", key: `day:${day}`, day });
    } else {
      const gap = time - prev.time;
      first = prev.author !== message.author || gap < 0 || gap > groupWindowMs || message.reply_to !== undefined;
    }
    if (i === unread) {
      rows.push({ kind: "unread", key: "unread" });
      first = true;
    }
    const old = before.get(message.id);
    rows.push(old?.kind === "message" && old.message === message && old.first === first ? old : { kind: "message", key: message.id, message, first });
    prev = { author: message.author, time, day };
  });
  return rows;
}
