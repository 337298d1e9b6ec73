// Client state kept from the event stream and fetched pages: a window of
// each channel's messages (src/lib/window.ts), who is typing and who is
// present. A pure reducer: state is never changed in place, and an action
// that changes nothing returns the very same state (so React skips the
// render).
// Communities, channels, members and roles are server state for TanStack
// Query; their events invalidate its queries instead.

import type { ApiEvent, ID, Key, Message, MessagePage, PresenceStatus, Reaction } from "@/api/types";
import { sameMessage, withChange, withJump, withLive, withoutMessage, withPage, type MessageWindow } from "./window";

export { compareMessages } from "./window";

export interface ChatState {
  /** Per channel, the window of its messages the client holds; absent until a page was fetched. */
  readonly windows: Readonly<Record<ID, MessageWindow>>;
  /** Per channel, per user typing there: until when (ms since the epoch). */
  readonly typing: Readonly<Record<ID, Readonly<Record<Key, number>>>>;
  /** Per community, per user: their status there. */
  readonly presence: Readonly<Record<ID, Readonly<Record<Key, PresenceStatus>>>>;
  /**
   * The messages deleted since the last resync. A delete is final, and a
   * page fetched before it arrived must not bring the message back.
   */
  readonly deleted: Readonly<Record<ID, true>>;
}

export type ChatAction =
  | ApiEvent
  /**
   * A page of a channel's history was fetched, as `page` asked; it joins
   * the channel's window. keep: the message at the top of what the reader
   * sees, which the window must not drop.
   */
  | { type: "page"; channel: ID; page: MessagePage; messages: readonly Message[]; keep?: ID }
  /** The channel's window becomes just this page: a jump to the present or to a message. */
  | { type: "jump"; channel: ID; page: MessagePage; messages: readonly Message[] }
  /** Forget everything (the resync event does the same). */
  | { type: "resync" }
  /** Drop typing indications that lapsed by `now` (ms since the epoch). */
  | { type: "typing:expire"; now: number };

export const initialChatState: ChatState = { windows: {}, typing: {}, presence: {}, deleted: {} };

const noMessages: readonly Message[] = [];

/** A channel's loaded messages in channel order; empty when none are. */
export function messagesIn(state: ChatState, channel: ID): readonly Message[] {
  return state.windows[channel]?.messages ?? noMessages;
}

function withKey<T>(record: Readonly<Record<string, T>>, key: string, value: T): Record<string, T> {
  return { ...record, [key]: value };
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

function setWindow(state: ChatState, channel: ID, w: MessageWindow | undefined): ChatState {
  if (w === undefined || state.windows[channel] === w) return state;
  return { ...state, windows: withKey(state.windows, channel, w) };
}

function addReaction(m: Message, emoji: string, user: Key): Message {
  const r = m.reactions.find((x) => x.emoji === emoji);
  if (r?.users.includes(user)) return m;
  const reactions: Reaction[] = r
    ? m.reactions.map((x) => (x === r ? { emoji, users: [...x.users, user] } : x))
    : [...m.reactions, { emoji, users: [user] }];
  return { ...m, reactions };
}

function removeReaction(m: Message, emoji: string, user: Key): Message {
  const r = m.reactions.find((x) => x.emoji === emoji);
  if (!r?.users.includes(user)) return m;
  const users = r.users.filter((u) => u !== user);
  const reactions =
    users.length === 0 ? m.reactions.filter((x) => x !== r) : m.reactions.map((x) => (x === r ? { emoji, users } : x));
  return { ...m, reactions };
}

function setTyping(state: ChatState, channel: ID, user: Key, until: number | null): ChatState {
  const users = state.typing[channel] ?? {};
  if (until === null) {
    if (!(user in users)) return state;
    const rest = withoutKey(users, user);
    const typing = Object.keys(rest).length === 0 ? withoutKey(state.typing, channel) : withKey(state.typing, channel, rest);
    return { ...state, typing };
  }
  if (users[user] === until) return state;
  return { ...state, typing: withKey(state.typing, channel, withKey(users, user, until)) };
}

function expireTyping(state: ChatState, now: number): ChatState {
  let changed = false;
  const typing: Record<ID, Readonly<Record<Key, number>>> = {};
  for (const [channel, users] of Object.entries(state.typing)) {
    const live = Object.entries(users).filter(([, until]) => until > now);
    if (live.length !== Object.keys(users).length) changed = true;
    if (live.length > 0) typing[channel] = live.length === Object.keys(users).length ? users : Object.fromEntries(live);
  }
  return changed ? { ...state, typing } : state;
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "resync":
      return initialChatState;
    case "page":
      // A fetched page, even an empty one, marks the channel as loaded.
      return setWindow(state, action.channel, withPage(state.windows[action.channel], action.page, action.messages, state.deleted, action.keep));
    case "jump":
      return setWindow(state, action.channel, withJump(state.windows[action.channel], action.page, action.messages, state.deleted));
    case "message:new": {
      const m = action.data;
      if (state.deleted[m.id]) return state;
      const next = setWindow(state, m.channel, withLive(state.windows[m.channel], m));
      // A message from a user ends their typing indication there.
      return setTyping(next, m.channel, m.author, null);
    }
    case "message:update":
      // Only messages in the window: an edit of one outside it changes nothing shown.
      return setWindow(
        state,
        action.data.channel,
        withChange(state.windows[action.data.channel], action.data.id, (m) => (sameMessage(m, action.data) ? m : action.data)),
      );
    case "message:delete": {
      const { id, channel } = action.data;
      const marked = state.deleted[id] ? state : { ...state, deleted: withKey(state.deleted, id, true as const) };
      return setWindow(marked, channel, withoutMessage(marked.windows[channel], id));
    }
    case "reaction:add":
    case "reaction:remove": {
      const { channel, message, emoji, user } = action.data;
      const change = action.type === "reaction:add" ? addReaction : removeReaction;
      return setWindow(state, channel, withChange(state.windows[channel], message, (m) => change(m, emoji, user)));
    }
    case "user:typing": {
      const until = Date.parse(action.data.until);
      if (Number.isNaN(until)) return state;
      return setTyping(state, action.data.channel, action.data.user, until);
    }
    case "typing:expire":
      return expireTyping(state, action.now);
    case "user:presence": {
      const { community, user, status } = action.data;
      const users = state.presence[community] ?? {};
      if (users[user] === status) return state;
      return { ...state, presence: withKey(state.presence, community, withKey(users, user, status)) };
    }
    case "channel:delete": {
      const { id } = action.data;
      if (!(id in state.windows) && !(id in state.typing)) return state;
      return { ...state, windows: withoutKey(state.windows, id), typing: withoutKey(state.typing, id) };
    }
    default:
      return state;
  }
}

/** The users typing in a channel at `now`, the local user left out. */
export function typingIn(state: ChatState, channel: ID, now: number, self?: Key): Key[] {
  const users = state.typing[channel] ?? {};
  return Object.entries(users)
    .filter(([user, until]) => until > now && user !== self)
    .map(([user]) => user);
}
