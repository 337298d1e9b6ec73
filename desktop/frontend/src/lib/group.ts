// The rows of a channel's message list: messages, a separator wherever the
// local date changes, and the divider above the first unread message. A
// message that continues its author's run (same author, within 7 minutes
// of the one before, no separator between them, not a reply) is shown
// without its header.
// One flat list, so a virtualized list can measure each row on its own.

import type { ID, Key, Message, Timestamp } from "./api";

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
}

/** A date's YYYY-MM-DD in the local time zone. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The index of the first unread message in a channel's ordered messages, or -1. */
export function firstUnread(messages: readonly Message[], lastRead: LastRead | null | undefined, self?: Key): number {
  if (!lastRead) return -1;
  let start = -1;
  if (lastRead.id !== undefined) {
    const read = messages.findIndex((m) => m.id === lastRead.id);
    if (read >= 0) start = read + 1;
  }
  if (start < 0 && lastRead.at !== undefined) {
    const at = Date.parse(lastRead.at);
    start = messages.findIndex((m) => Date.parse(m.created_at) > at);
  }
  if (start < 0) return -1;
  for (let i = start; i < messages.length; i++) {
    if ((messages[i] as Message).author !== self) return i;
  }
  return -1;
}

/** The rows for a channel's messages, which must be in channel order. */
export function messageRows(messages: readonly Message[], options: RowOptions = {}): Row[] {
  const rows: Row[] = [];
  const unread = firstUnread(messages, options.lastRead, options.self);
  let prev: { author: Key; time: number; day: string } | null = null;
  messages.forEach((message, i) => {
    const time = Date.parse(message.created_at);
    const day = localDay(new Date(time));
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
    rows.push({ kind: "message", key: message.id, message, first });
    prev = { author: message.author, time, day };
  });
  return rows;
}
