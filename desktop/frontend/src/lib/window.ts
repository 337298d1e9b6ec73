// The window of a channel's history that the client holds: a contiguous
// run of messages around what the reader sees, never more than a few pages.
// Older and newer pages join it at its ends (the node pages in its own
// order, so a page goes in front or behind as it is, with no sort), and
// the far end is dropped when it grows past windowLimit; dropped pages are
// fetched again when the reader scrolls back to them. Every change costs
// time in proportion to the window, never to the channel.
// Pure functions: a window is never changed in place, and a change that
// changes nothing returns the very same window.

import type { ID, Message, MessagePage, Timestamp } from "@/api/types";

/** A contiguous run of a channel's messages. */
export interface MessageWindow {
  /** In channel order: by time, then ID, as the node pages them. */
  readonly messages: readonly Message[];
  /** The window starts at the channel's first message: nothing older to fetch. */
  readonly atOldest: boolean;
  /** The window ends at the channel's latest message, so live messages join it. */
  readonly atNewest: boolean;
}

/** The node's page size when a request names none. */
export const defaultPageLimit = 50;

/** How many messages a window keeps when a page arrives: eight pages of 50. */
export const windowLimit = 400;

/**
 * Live messages may grow a window at the present to twice windowLimit
 * before its oldest half goes: a reader scrolled up in a busy channel
 * keeps what is above them for a while.
 */
const liveLimit = 2 * windowLimit;

/** Deleted message IDs: a page fetched before a delete must not bring the message back. */
export type Deleted = Readonly<Record<ID, true>>;

/** [whole milliseconds, the nanoseconds past them]: RFC 3339 times in order, sub-millisecond digits included. */
function timeKey(t: Timestamp): [number, number] {
  const ms = Date.parse(t);
  const frac = /\.(\d+)/.exec(t)?.[1] ?? "";
  const subMs = Number((frac.slice(3) + "000000").slice(0, 6));
  return [Number.isNaN(ms) ? 0 : ms, subMs];
}

/** The order of two RFC 3339 times, every digit counted. */
export function compareTimes(a: Timestamp, b: Timestamp): number {
  const [am, an] = timeKey(a);
  const [bm, bn] = timeKey(b);
  return am !== bm ? am - bm : an - bn;
}

/** The order of messages in a channel: by created_at, then id. */
export function compareMessages(a: Message, b: Message): number {
  return compareTimes(a.created_at, b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether two copies of a message show the same thing (a replayed event). */
export function sameMessage(a: Message, b: Message): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
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
  if (loaded.state === "sent" && fetched.state === "pending") {
    const sent: Message = { ...fetched, state: "sent" };
    return sameMessage(loaded, sent) ? loaded : sent;
  }
  return fetched;
}

function withoutDeleted(page: readonly Message[], deleted: Deleted): readonly Message[] {
  return page.some((m) => deleted[m.id]) ? page.filter((m) => !deleted[m.id]) : page;
}

/** Whether a page came back as long as asked: there may be more beyond it. */
function isFull(page: MessagePage, fetched: readonly Message[]): boolean {
  return fetched.length >= (page.limit ?? defaultPageLimit);
}

/** The newest `limit` of a window's messages; it no longer reaches the oldest. */
function keepNewest(w: MessageWindow, limit: number): MessageWindow {
  if (w.messages.length <= limit) return w;
  return { messages: w.messages.slice(w.messages.length - limit), atOldest: false, atNewest: w.atNewest };
}

/** The oldest `limit` of a window's messages; it no longer reaches the present. */
function keepOldest(w: MessageWindow, limit: number): MessageWindow {
  if (w.messages.length <= limit) return w;
  return { messages: w.messages.slice(0, limit), atOldest: w.atOldest, atNewest: false };
}

/**
 * Two runs of messages, each in channel order, as one: a message in both
 * is kept once, in its fresher copy. `into` itself when `page` adds and
 * changes nothing.
 */
export function mergeRuns(into: readonly Message[], page: readonly Message[]): readonly Message[] {
  const fetched = new Map(page.map((m) => [m.id, m]));
  const rest: Message[] = [];
  let changed = false;
  for (const m of into) {
    const f = fetched.get(m.id);
    if (f === undefined) {
      rest.push(m);
      continue;
    }
    const keep = fresher(m, f);
    if (keep !== m) changed = true;
    fetched.set(m.id, keep);
  }
  if (!changed && rest.length + fetched.size === into.length) return into;
  const incoming = [...fetched.values()];
  const out: Message[] = [];
  let i = 0;
  let j = 0;
  while (i < rest.length && j < incoming.length) {
    const a = rest[i] as Message;
    const b = incoming[j] as Message;
    if (compareMessages(a, b) <= 0) {
      out.push(a);
      i++;
    } else {
      out.push(b);
      j++;
    }
  }
  for (; i < rest.length; i++) out.push(rest[i] as Message);
  for (; j < incoming.length; j++) out.push(incoming[j] as Message);
  return out;
}

/** A window holding just this page, fetched as `page` asked (the latest, or around a message). */
export function windowOf(page: MessagePage, fetched: readonly Message[], deleted: Deleted = {}): MessageWindow {
  const messages = withoutDeleted(fetched, deleted);
  if (page.around !== undefined) return { messages, atOldest: false, atNewest: false };
  return { messages, atOldest: !isFull(page, fetched), atNewest: true };
}

/**
 * The window after a page arrived that was asked for as `page`. An older
 * or newer page that no longer borders the window (its end moved while
 * the page was on its way) is dropped: the reader's next scroll asks again.
 * A latest page is merged when it overlaps the window; when it does not,
 * newer messages exist that the window lacks, so it no longer reaches the
 * present. A page around a message replaces the window.
 */
export function withPage(
  w: MessageWindow | undefined,
  page: MessagePage,
  fetched: readonly Message[],
  deleted: Deleted = {},
): MessageWindow | undefined {
  const messages = withoutDeleted(fetched, deleted);
  if (page.before !== undefined) {
    if (!w || w.messages[0]?.id !== page.before) return w;
    const loaded = new Set(w.messages.map((m) => m.id));
    const older = messages.filter((m) => !loaded.has(m.id));
    const atOldest = !isFull(page, fetched);
    if (older.length === 0 && atOldest === w.atOldest) return w;
    return keepOldest({ messages: [...older, ...w.messages], atOldest, atNewest: w.atNewest }, windowLimit);
  }
  if (page.after !== undefined) {
    if (!w || w.messages[w.messages.length - 1]?.id !== page.after) return w;
    const loaded = new Set(w.messages.map((m) => m.id));
    const newer = messages.filter((m) => !loaded.has(m.id));
    const atNewest = !isFull(page, fetched);
    if (newer.length === 0 && atNewest === w.atNewest) return w;
    return keepNewest({ messages: [...w.messages, ...newer], atOldest: w.atOldest, atNewest }, windowLimit);
  }
  if (page.around !== undefined || !w || w.messages.length === 0) {
    const next = windowOf(page, fetched, deleted);
    const same = w && next.messages.length === 0 && w.messages.length === 0 && next.atOldest === w.atOldest && next.atNewest === w.atNewest;
    return same ? w : next;
  }
  const loaded = new Set(w.messages.map((m) => m.id));
  if (!messages.some((m) => loaded.has(m.id))) {
    return w.atNewest && messages.length > 0 ? { ...w, atNewest: false } : w;
  }
  const merged = mergeRuns(w.messages, messages);
  const atOldest = w.atOldest || !isFull(page, fetched);
  if (merged === w.messages && w.atNewest && atOldest === w.atOldest) return w;
  return keepNewest({ messages: merged, atOldest, atNewest: true }, liveLimit);
}

/**
 * The window with a live message put in its place (replacing its copy
 * when it has one). A message that falls beyond an end the window does
 * not reach is left out: the window stays contiguous.
 */
export function withLive(w: MessageWindow | undefined, m: Message): MessageWindow | undefined {
  if (!w) return w;
  const list = w.messages;
  let at = -1;
  for (let k = list.length - 1; k >= 0; k--) {
    if ((list[k] as Message).id === m.id) {
      at = k;
      break;
    }
  }
  if (at >= 0) {
    if (sameMessage(list[at] as Message, m)) return w;
    return { ...w, messages: [...list.slice(0, at), m, ...list.slice(at + 1)] };
  }
  let i = list.length;
  while (i > 0 && compareMessages(list[i - 1] as Message, m) > 0) i--;
  if (i === list.length && !w.atNewest && list.length > 0) return w;
  if (i === 0 && !w.atOldest && list.length > 0) return w;
  const next = { ...w, messages: [...list.slice(0, i), m, ...list.slice(i)] };
  return next.messages.length > liveLimit ? keepNewest(next, windowLimit) : next;
}

/** The window with one message changed; the same window when it is not there or change leaves it. */
export function withChange(w: MessageWindow | undefined, id: ID, change: (m: Message) => Message): MessageWindow | undefined {
  if (!w) return w;
  const list = w.messages;
  let i = list.length - 1;
  while (i >= 0 && (list[i] as Message).id !== id) i--;
  if (i < 0) return w;
  const before = list[i] as Message;
  const after = change(before);
  if (after === before) return w;
  const messages = [...list];
  messages[i] = after;
  return { ...w, messages };
}

/** The window without a deleted message. */
export function withoutMessage(w: MessageWindow | undefined, id: ID): MessageWindow | undefined {
  if (!w || !w.messages.some((m) => m.id === id)) return w;
  return { ...w, messages: w.messages.filter((m) => m.id !== id) };
}
