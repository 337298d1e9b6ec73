// Client state kept from the event stream and fetched pages: the loaded
// messages of each channel, who is typing and who is present. A pure
// reducer: state is never changed in place, and an action that changes
// nothing returns the very same state (so React skips the render).
// Communities, channels, members and roles are server state for TanStack
// Query; their events invalidate its queries instead.

import type { ApiEvent, ID, Key, Message, PresenceStatus, Reaction, Timestamp } from "./api";

export interface ChatState {
  /** Per channel, its loaded messages ordered by created_at, then id. */
  readonly messages: Readonly<Record<ID, readonly Message[]>>;
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
  /** A page of a channel's history was fetched. */
  | { type: "page"; channel: ID; messages: readonly Message[] }
  /** Forget everything (the resync event does the same). */
  | { type: "resync" }
  /** Drop typing indications that lapsed by `now` (ms since the epoch). */
  | { type: "typing:expire"; now: number };

export const initialChatState: ChatState = { messages: {}, typing: {}, presence: {}, deleted: {} };

/** [whole milliseconds, the nanoseconds past them]: RFC 3339 times in order, sub-millisecond digits included. */
function timeKey(t: Timestamp): [number, number] {
  const ms = Date.parse(t);
  const frac = /\.(\d+)/.exec(t)?.[1] ?? "";
  const subMs = Number((frac.slice(3) + "000000").slice(0, 6));
  return [Number.isNaN(ms) ? 0 : ms, subMs];
}

function compareTimes(a: Timestamp, b: Timestamp): number {
  const [am, an] = timeKey(a);
  const [bm, bn] = timeKey(b);
  return am !== bm ? am - bm : an - bn;
}

/** The order of messages in a channel: by created_at, then id. */
export function compareMessages(a: Message, b: Message): number {
  return compareTimes(a.created_at, b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
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

/** The list with message put in its place, replacing one with the same id. */
function upsert(list: readonly Message[], message: Message): readonly Message[] {
  const without = list.filter((m) => m.id !== message.id);
  let i = without.length;
  while (i > 0 && compareMessages(without[i - 1] as Message, message) > 0) i--;
  return [...without.slice(0, i), message, ...without.slice(i)];
}

/**
 * Which copy of a message a fetched page leaves: the page may have been
 * fetched before an edit, or the send of a pending message, that the
 * events already brought.
 */
function fresher(loaded: Message, fetched: Message): Message {
  if (sameMessage(loaded, fetched)) return loaded;
  if (loaded.edited_at !== null && (fetched.edited_at === null || compareTimes(fetched.edited_at, loaded.edited_at) < 0)) {
    return loaded;
  }
  if (loaded.state === "sent" && fetched.state === "pending") return { ...fetched, state: "sent" };
  return fetched;
}

/** The list with a page's messages added, deleted ones left out. */
function merge(list: readonly Message[], page: readonly Message[], deleted: ChatState["deleted"]): readonly Message[] {
  const byId = new Map<ID, Message>();
  for (const m of list) byId.set(m.id, m);
  let changed = false;
  for (const m of page) {
    if (deleted[m.id]) continue;
    const loaded = byId.get(m.id);
    const keep = loaded ? fresher(loaded, m) : m;
    if (keep === loaded) continue;
    byId.set(m.id, keep);
    changed = true;
  }
  return changed ? [...byId.values()].sort(compareMessages) : list;
}

function setMessages(state: ChatState, channel: ID, list: readonly Message[]): ChatState {
  if (state.messages[channel] === list) return state;
  return { ...state, messages: withKey(state.messages, channel, list) };
}

function updateMessage(state: ChatState, channel: ID, id: ID, change: (m: Message) => Message): ChatState {
  const list = state.messages[channel];
  const i = list?.findIndex((m) => m.id === id) ?? -1;
  if (!list || i < 0) return state;
  const before = list[i] as Message;
  const after = change(before);
  if (after === before) return state;
  const next = [...list];
  next[i] = after;
  return setMessages(state, channel, next);
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
      return setMessages(state, action.channel, merge(state.messages[action.channel] ?? [], action.messages, state.deleted));
    case "message:new": {
      const m = action.data;
      if (state.deleted[m.id]) return state;
      const list = state.messages[m.channel] ?? [];
      const existing = list.find((x) => x.id === m.id);
      const next = existing && sameMessage(existing, m) ? state : setMessages(state, m.channel, upsert(list, m));
      // A message from a user ends their typing indication there.
      return setTyping(next, m.channel, m.author, null);
    }
    case "message:update":
      // Only messages already loaded: an edit of one outside the loaded pages changes nothing shown.
      return updateMessage(state, action.data.channel, action.data.id, (m) =>
        sameMessage(m, action.data) ? m : action.data,
      );
    case "message:delete": {
      const { id, channel } = action.data;
      const marked = state.deleted[id] ? state : { ...state, deleted: withKey(state.deleted, id, true as const) };
      const list = marked.messages[channel];
      if (!list?.some((m) => m.id === id)) return marked;
      return setMessages(
        marked,
        channel,
        list.filter((m) => m.id !== id),
      );
    }
    case "reaction:add":
    case "reaction:remove": {
      const { channel, message, emoji, user } = action.data;
      const change = action.type === "reaction:add" ? addReaction : removeReaction;
      return updateMessage(state, channel, message, (m) => change(m, emoji, user));
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
      if (!(id in state.messages) && !(id in state.typing)) return state;
      return { ...state, messages: withoutKey(state.messages, id), typing: withoutKey(state.typing, id) };
    }
    default:
      return state;
  }
}

/** Whether two copies of a message show the same thing (a replayed event). */
function sameMessage(a: Message, b: Message): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The users typing in a channel at `now`, the local user left out. */
export function typingIn(state: ChatState, channel: ID, now: number, self?: Key): Key[] {
  const users = state.typing[channel] ?? {};
  return Object.entries(users)
    .filter(([user, until]) => until > now && user !== self)
    .map(([user]) => user);
}
