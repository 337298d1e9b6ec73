// The window of a channel's history that the client holds: a contiguous
// run of messages around what the reader sees, never more than a few pages.
// Older and newer pages join it at its ends (the node pages in its own
// order, so a page goes in front or behind as it is, with no sort), and
// the far end is dropped when it grows past windowLimit; dropped pages are
// fetched again when the reader scrolls back to them. What the reader is
// looking at is never dropped: a page that would push it out is left out
// instead (the reader has moved away from that end), and live messages
// that would overflow a window stop at its end (it no longer reaches the
// present, and the reader pages on). Every change costs time in
// proportion to the window, never to the channel.
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
  /**
   * The newest live message left out because the window did not reach the
   * present then. A page fetched before it came (it was on its way) cannot
   * bring the window back to the present without it.
   */
  readonly missed?: Message;
}

/** The node's page size when a request names none. */
export const defaultPageLimit = 50;

/** How many messages a window keeps when a page arrives: eight pages of 50. */
export const windowLimit = 400;

/**
 * Live messages may grow a window at the present to twice windowLimit;
 * past that it stops taking them and no longer reaches the present (the
 * reader, wherever they are, keeps what they see; one at the bottom pages
 * on, and the oldest part goes then).
 */
export const liveLimit = 2 * windowLimit;

/**
 * How close to an end of a window what the reader sees may be when that
 * end is dropped: a page, more than a screen of messages.
 */
const viewMargin = defaultPageLimit;

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
  return { ...w, messages: w.messages.slice(w.messages.length - limit), atOldest: false };
}

/** The oldest `limit` of a window's messages; it no longer reaches the present. */
function keepOldest(w: MessageWindow, limit: number): MessageWindow {
  if (w.messages.length <= limit) return w;
  return { ...w, messages: w.messages.slice(0, limit), atNewest: false };
}

/** Where the message `keep` is in a run of messages; -1 when it is not there or not given. */
function indexOf(messages: readonly Message[], keep: ID | undefined): number {
  if (keep === undefined) return -1;
  for (let i = 0; i < messages.length; i++) if ((messages[i] as Message).id === keep) return i;
  return -1;
}

/**
 * The window as `next` would have it, but reaching the present only when
 * nothing it missed (a live message that came while it did not reach the
 * present) is left out of it.
 */
function atPresent(next: MessageWindow, missed: Message | undefined, deleted: Deleted): MessageWindow {
  if (!next.atNewest) return missed === next.missed ? next : { ...next, missed };
  const last = next.messages[next.messages.length - 1];
  const covered =
    missed === undefined ||
    deleted[missed.id] === true ||
    (last !== undefined && compareTimes(missed.created_at, last.created_at) < 0) ||
    next.messages.some((m) => m.id === missed.id);
  if (covered) {
    if (next.missed === undefined) return next;
    const { missed: _, ...rest } = next;
    return rest;
  }
  return { ...next, atNewest: false, missed };
}

/**
 * Two runs of a channel's messages, each in the node's order, as one: a
 * message in both is kept once, in its fresher copy. The messages both
 * hold fix where the rest goes, and where the two disagree on their order
 * the page's (the node's) wins: the client cannot tell the order of two
 * messages of one millisecond, so a live message may have been put in a
 * place the node does not give it. Only messages that neither run places
 * against the other (a live one the page was fetched too early for, one
 * the window lacked) are put in by time. `into` itself when `page` adds
 * and changes nothing.
 */
export function mergeRuns(into: readonly Message[], page: readonly Message[]): readonly Message[] {
  const inPage = new Set(page.map((m) => m.id));
  const loaded = new Map(into.map((m) => [m.id, m]));
  const placed = new Set<ID>();
  const out: Message[] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < into.length && placed.has((into[i] as Message).id)) i++;
    const a = into[i];
    const b = page[j];
    if (a === undefined && b === undefined) break;
    if (b === undefined || (a !== undefined && !inPage.has(a.id) && (loaded.has(b.id) || compareMessages(a, b) <= 0))) {
      // A message of the window's alone, before the next one both hold (or before the page's next by time).
      out.push(a as Message);
      i++;
      continue;
    }
    // The page's next: one both hold, in its fresher copy, or one the window lacks.
    const mine = loaded.get(b.id);
    out.push(mine ? fresher(mine, b) : b);
    placed.add(b.id);
    if (a !== undefined && a.id === b.id) i++;
    j++;
  }
  if (out.length === into.length && out.every((m, k) => m === into[k])) return into;
  return out;
}

/** A window holding just this page, fetched as `page` asked (the latest, or around a message). */
export function windowOf(page: MessagePage, fetched: readonly Message[], deleted: Deleted = {}): MessageWindow {
  const messages = withoutDeleted(fetched, deleted);
  if (page.around !== undefined) return { messages, atOldest: false, atNewest: false };
  return { messages, atOldest: !isFull(page, fetched), atNewest: true };
}

/**
 * The window after a page arrived that was asked for as `page`; `keep` is
 * the message at the top of what the reader sees, if known. An older or
 * newer page that no longer borders the window (its end moved while the
 * page was on its way) is dropped, and so is one that would push what the
 * reader sees out of the window (they have moved away from that end):
 * the reader asks again when they come back to it. A latest page is
 * merged when it overlaps the window; when it does not, newer messages
 * exist that the window lacks, so it no longer reaches the present. A page
 * around a message replaces the window. A page that was on its way while
 * a live message was left out does not bring the window back to the
 * present without it.
 */
export function withPage(
  w: MessageWindow | undefined,
  page: MessagePage,
  fetched: readonly Message[],
  deleted: Deleted = {},
  keep?: ID,
): MessageWindow | undefined {
  const messages = withoutDeleted(fetched, deleted);
  if (page.before !== undefined) {
    if (!w || w.messages[0]?.id !== page.before) return w;
    const loaded = new Set(w.messages.map((m) => m.id));
    const older = messages.filter((m) => !loaded.has(m.id));
    const atOldest = !isFull(page, fetched);
    if (older.length === 0 && atOldest === w.atOldest) return w;
    const next = [...older, ...w.messages];
    const k = indexOf(next, keep);
    if (next.length > windowLimit && k >= 0 && k > windowLimit - viewMargin) return w;
    return keepOldest({ ...w, messages: next, atOldest }, windowLimit);
  }
  if (page.after !== undefined) {
    if (!w || w.messages[w.messages.length - 1]?.id !== page.after) return w;
    const loaded = new Set(w.messages.map((m) => m.id));
    const newer = messages.filter((m) => !loaded.has(m.id));
    const atNewest = !isFull(page, fetched);
    if (newer.length === 0 && atNewest === w.atNewest) return w;
    const next = [...w.messages, ...newer];
    const k = indexOf(next, keep);
    if (next.length > windowLimit && k >= 0 && k < next.length - windowLimit + viewMargin) return w;
    const out = atPresent(keepNewest({ ...w, messages: next, atNewest }, windowLimit), w.missed, deleted);
    return out.messages === w.messages && out.atNewest === w.atNewest && out.atOldest === w.atOldest && out.missed === w.missed ? w : out;
  }
  if (page.around !== undefined || !w || w.messages.length === 0) {
    const next = atPresent(windowOf(page, fetched, deleted), w?.missed, deleted);
    const same = w && next.messages.length === 0 && w.messages.length === 0 && next.atOldest === w.atOldest && next.atNewest === w.atNewest && next.missed === w.missed;
    return same ? w : next;
  }
  const loaded = new Set(w.messages.map((m) => m.id));
  if (!messages.some((m) => loaded.has(m.id))) {
    return w.atNewest && messages.length > 0 ? { ...w, atNewest: false } : w;
  }
  const merged = mergeRuns(w.messages, messages);
  const atOldest = w.atOldest || !isFull(page, fetched);
  if (merged === w.messages && w.atNewest && atOldest === w.atOldest) return w;
  // A latest page that brings newer messages pages the window on, like an
  // older or newer page: it keeps windowLimit, or what live messages grew
  // it to, and not by dropping what the reader sees (or may see: not known).
  const limit = Math.min(liveLimit, Math.max(windowLimit, w.messages.length));
  if (merged.length > limit) {
    const k = indexOf(merged, keep);
    if (k < 0 || k < merged.length - limit + viewMargin) return w.atNewest ? { ...w, atNewest: false } : w;
  }
  const next = atPresent(keepNewest({ ...w, messages: merged, atOldest, atNewest: true }, limit), w.missed, deleted);
  return next.messages === w.messages && next.atNewest === w.atNewest && next.atOldest === w.atOldest && next.missed === w.missed ? w : next;
}

/**
 * The window replaced by a page (a jump to the present, or to a message).
 * A page that was on its way while a live message was left out does not
 * reach the present without it.
 */
export function withJump(w: MessageWindow | undefined, page: MessagePage, fetched: readonly Message[], deleted: Deleted = {}): MessageWindow {
  return atPresent(windowOf(page, fetched, deleted), w?.missed, deleted);
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
  // After every message of its time or older: the node orders messages
  // of one millisecond by its own clock, which the client cannot see, and
  // a live message is most likely the newest of its millisecond.
  let i = list.length;
  while (i > 0 && compareTimes((list[i - 1] as Message).created_at, m.created_at) > 0) i--;
  if (i === list.length && !w.atNewest && list.length > 0) {
    // Beyond the end, which is not the present: left out, and noted (see missed).
    return w.missed !== undefined && compareTimes(w.missed.created_at, m.created_at) > 0 ? w : { ...w, missed: m };
  }
  if (i === 0 && !w.atOldest && list.length > 0) return w;
  if (list.length >= liveLimit) {
    // A full window stops short of the present rather than drop its
    // oldest part, where the reader may be: its newest message goes.
    if (i === list.length) return { ...w, atNewest: false, missed: m };
    const last = list[list.length - 1] as Message;
    return { ...w, messages: [...list.slice(0, i), m, ...list.slice(i, list.length - 1)], atNewest: false, missed: w.atNewest ? last : w.missed };
  }
  return { ...w, messages: [...list.slice(0, i), m, ...list.slice(i)] };
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

/**
 * The page a reader needs whose view is near the window's start or its
 * end: the one before its first message, or after its last; none at an
 * end of the channel. Asked again after every scroll, every change of the
 * window and every page that is done (one that was dropped included), so
 * a reader who has stopped at an end of the window still gets it.
 */
export function pageToLoad(w: MessageWindow | undefined, near: { start: boolean; end: boolean }): MessagePage | null {
  if (!w) return null;
  const first = w.messages[0];
  const last = w.messages[w.messages.length - 1];
  if (near.start && first && !w.atOldest) return { before: first.id };
  if (near.end && last && !w.atNewest) return { after: last.id };
  return null;
}
