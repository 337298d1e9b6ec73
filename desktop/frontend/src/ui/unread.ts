// Unread counts for the rail and the channel list, from the live event
// stream: a message from someone else in a channel not on screen counts,
// and one that mentions the local user (or everyone) counts as a mention.
// The node keeps no read state yet, so counts start at zero each session.

import type { ApiEvent, Key, Message } from "../lib/api";

export interface Unread {
  /** Per channel: unread messages and mentions. */
  readonly channels: Readonly<Record<string, { count: number; mentions: number }>>;
}

export const noUnread: Unread = { channels: {} };

export function mentions(message: Message, self: Key): boolean {
  return message.everyone || message.mentions.includes(self);
}

/** The unread state after ev, given the channel on screen. */
export function unreadReducer(state: Unread, ev: ApiEvent | { type: "read"; channel: string }, self: Key, open: string | null): Unread {
  switch (ev.type) {
    case "read": {
      if (!state.channels[ev.channel]) return state;
      const channels = { ...state.channels };
      delete channels[ev.channel];
      return { channels };
    }
    case "message:new": {
      const m = ev.data;
      if (m.author === self || m.channel === open) return state;
      const cur = state.channels[m.channel] ?? { count: 0, mentions: 0 };
      return {
        channels: { ...state.channels, [m.channel]: { count: cur.count + 1, mentions: cur.mentions + (mentions(m, self) ? 1 : 0) } },
      };
    }
    case "resync":
      return noUnread;
    default:
      return state;
  }
}
