// Read state: how far the user has read each channel (kept across
// restarts), and from it the unread counts for the rail and the channel
// list. At start each channel's latest page is counted against its read
// mark; after that the live event stream adds a message from someone else
// in a channel not on screen, and one that mentions the local user (or
// everyone) counts as a mention. The node keeps no read state, so it is
// kept in the browser's localStorage per user key: the desktop window and
// the headless node's page keep a stable origin.

import type { ApiEvent, ID, Key, Message, Timestamp } from "@/api/types";
import { readBoundary, type LastRead } from "@/lib/group";
import { mentionsMe } from "@/lib/mentions";
import { compareTimes } from "@/lib/window";

/** One channel's unread messages. */
export interface ChannelUnread {
  readonly count: number;
  readonly mentions: number;
  /** The unread messages, each with whether it mentions the local user. */
  readonly ids: Readonly<Record<ID, boolean>>;
}

export interface Unread {
  readonly channels: Readonly<Record<ID, ChannelUnread>>;
}

export const noUnread: Unread = { channels: {} };

/** Whose unread messages these are: the local user, with the roles they hold where a channel is. */
export interface Reader {
  readonly user: Key;
  /** The local user's roles in the channel's community (for role mentions). */
  rolesIn(channel: ID): readonly ID[];
}

export type UnreadAction =
  | ApiEvent
  /** The channel on screen was read. */
  | { type: "read"; channel: ID }
  /** The channel's latest messages were fetched; those after its read mark are unread. */
  | { type: "counted"; channel: ID; messages: readonly Message[]; lastRead: LastRead };

function withMessages(state: Unread, channel: ID, messages: readonly Message[], reader: Reader): Unread {
  const cur = state.channels[channel];
  const ids: Record<ID, boolean> = { ...cur?.ids };
  let count = cur?.count ?? 0;
  let mentioned = cur?.mentions ?? 0;
  for (const m of messages) {
    if (m.author === reader.user || m.id in ids) continue;
    const mention = mentionsMe(m, reader.user, reader.rolesIn(channel));
    ids[m.id] = mention;
    count++;
    if (mention) mentioned++;
  }
  if (count === (cur?.count ?? 0)) return state;
  return { channels: { ...state.channels, [channel]: { count, mentions: mentioned, ids } } };
}

function withoutChannel(state: Unread, channel: ID): Unread {
  if (!state.channels[channel]) return state;
  const channels = { ...state.channels };
  delete channels[channel];
  return { channels };
}

/** The unread state after an event or action, given the reader and the channel on screen. */
export function unreadReducer(state: Unread, ev: UnreadAction, reader: Reader, open: ID | null): Unread {
  switch (ev.type) {
    case "read":
      return withoutChannel(state, ev.channel);
    case "counted": {
      if (ev.channel === open) return state;
      // A mark older than the whole page makes every message in it unread.
      const start = readBoundary(ev.messages, ev.lastRead);
      return start < 0 ? state : withMessages(state, ev.channel, ev.messages.slice(start), reader);
    }
    case "message:new":
      if (ev.data.channel === open) return state;
      return withMessages(state, ev.data.channel, [ev.data], reader);
    case "message:delete": {
      const { id, channel } = ev.data;
      const cur = state.channels[channel];
      if (!cur || !(id in cur.ids)) return state;
      if (cur.count === 1) return withoutChannel(state, channel);
      const ids = { ...cur.ids };
      delete ids[id];
      const entry = { count: cur.count - 1, mentions: cur.mentions - (cur.ids[id] ? 1 : 0), ids };
      return { channels: { ...state.channels, [channel]: entry } };
    }
    case "channel:delete":
      return withoutChannel(state, ev.data.id);
    case "resync":
      return noUnread;
    default:
      return state;
  }
}

/** What ReadMarks needs of localStorage. */
export type MarkStorage = Pick<Storage, "getItem" | "setItem">;

/** Where a user's read marks are kept. */
export function readMarksKey(user: Key): string {
  return `ancore.read.${user}`;
}

function isMark(v: unknown): v is LastRead {
  if (typeof v !== "object" || v === null) return false;
  const { id, at } = v as Record<string, unknown>;
  return (id === undefined || typeof id === "string") && (at === undefined || typeof at === "string") && (id !== undefined || at !== undefined);
}

/**
 * The last message read in each channel, kept in storage so unread
 * counts and the unread divider survive a restart. A mark only moves
 * forward. Storage that fails (disabled, full) leaves the marks for this
 * page's life.
 */
export class ReadMarks {
  private readonly marks: Record<ID, LastRead> = {};

  constructor(
    private readonly storage: MarkStorage | null,
    private readonly user: Key,
  ) {
    let saved: unknown;
    try {
      saved = JSON.parse(storage?.getItem(readMarksKey(user)) ?? "null");
    } catch {
      saved = null;
    }
    if (typeof saved !== "object" || saved === null) return;
    for (const [channel, mark] of Object.entries(saved)) {
      if (isMark(mark)) this.marks[channel] = { ...(mark.id !== undefined && { id: mark.id }), ...(mark.at !== undefined && { at: mark.at }) };
    }
  }

  /** The channel's mark; null when the channel was never seen here. */
  get(channel: ID): LastRead | null {
    return this.marks[channel] ?? null;
  }

  /** Marks the channel read up to message; false when the mark is there or beyond already. */
  markRead(channel: ID, message: Pick<Message, "id" | "created_at">): boolean {
    const cur = this.marks[channel];
    if (cur?.id === message.id) return false;
    if (cur?.at !== undefined && compareTimes(message.created_at, cur.at) < 0) return false;
    this.marks[channel] = { id: message.id, at: message.created_at };
    this.save();
    return true;
  }

  /** Marks a channel with no mark yet read up to `at`: it starts out read when first seen. */
  markSeen(channel: ID, at: Timestamp): void {
    if (this.marks[channel]) return;
    this.marks[channel] = { at };
    this.save();
  }

  private save(): void {
    try {
      this.storage?.setItem(readMarksKey(this.user), JSON.stringify(this.marks));
    } catch {
      // Kept in memory for this page's life.
    }
  }
}
