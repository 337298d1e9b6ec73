// Property test of a channel's window (window.ts, through the reducer
// that holds it): a simulated node with a channel of 1..1000 messages,
// a reader who scrolls, asks for pages the way the message list does
// (pageToLoad after every change and every scroll, one page request at a
// time, or a few in some runs), pages that come back late and out of
// order, live messages and deletes arriving meanwhile, and refetches of
// the latest page. After every change:
//   - the window is a run of consecutive messages of the channel, in the
//     node's order (which the client cannot tell from IDs within a
//     millisecond), each once;
//   - it holds at most liveLimit messages, and windowLimit when no live
//     message came;
//   - it claims to start at the channel's first message, or to reach its
//     latest, only when it does.
// Then a reader scrolls from the newest message to the oldest and back,
// by up to a view at a time: every message is on screen in some state of
// the window, and once — it never comes back after leaving the view.
//
// Each seed is a run; a failing one prints its seed and step.

import { describe, expect, it } from "vitest";
import type { Message, MessagePage } from "@/api/types";
import { chatReducer, initialChatState, type ChatAction, type ChatState } from "./reducer";
import { defaultPageLimit, liveLimit, pageToLoad, windowLimit, type MessageWindow } from "./window";

const channelId = "c";
const author = "a".repeat(52);

/** mulberry32: small, fast, and the same sequence for a seed everywhere. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T,
  };
}
type Rng = ReturnType<typeof rng>;

/**
 * The node: messages in its own order (its clock, then CID), deleted ones
 * kept as tombstones, paged like store.Messages: before and after skip
 * tombstones, an anchor may be one.
 */
class Node {
  readonly all: Message[] = [];
  readonly at = new Map<string, number>();
  readonly dead = new Set<string>();
  private time = Date.UTC(2024, 4, 1);
  private liveList: Message[] | null = null;
  private liveAt: Map<string, number> | null = null;

  constructor(private readonly r: Rng) {}

  /** A new message, the newest: some share their millisecond with the one before, and their IDs are in no order. */
  add(): Message {
    if (!this.r.chance(0.3)) this.time += this.r.int(1, 5000);
    const n = this.all.length + 1;
    const id = `b${Math.floor(this.r.next() * 2 ** 40).toString(36).padStart(8, "0")}${n}`;
    const m: Message = {
      id,
      channel: channelId,
      author,
      text: `msg ${n}`,
      mentions: [],
      everyone: false,
      created_at: new Date(this.time).toISOString(),
      edited_at: null,
      reactions: [],
      state: "sent",
    };
    this.at.set(id, this.all.length);
    this.all.push(m);
    this.liveList = null;
    return m;
  }

  delete(id: string) {
    this.dead.add(id);
    this.liveList = null;
  }

  /** The messages not deleted, in order, and where each is among them. */
  live(): { list: Message[]; at: Map<string, number> } {
    if (!this.liveList || !this.liveAt) {
      this.liveList = this.all.filter((m) => !this.dead.has(m.id));
      this.liveAt = new Map(this.liveList.map((m, i) => [m.id, i]));
    }
    return { list: this.liveList, at: this.liveAt };
  }

  fetch(page: MessagePage): Message[] {
    const limit = page.limit ?? defaultPageLimit;
    const back = (from: number) => {
      const out: Message[] = [];
      for (let i = from; i >= 0 && out.length < limit; i--) if (!this.dead.has((this.all[i] as Message).id)) out.push(this.all[i] as Message);
      return out.reverse();
    };
    if (page.before !== undefined) return back((this.at.get(page.before) ?? 0) - 1);
    if (page.after !== undefined) {
      const out: Message[] = [];
      for (let i = (this.at.get(page.after) ?? this.all.length) + 1; i < this.all.length && out.length < limit; i++) {
        if (!this.dead.has((this.all[i] as Message).id)) out.push(this.all[i] as Message);
      }
      return out;
    }
    return back(this.all.length - 1);
  }
}

interface Request {
  page: MessagePage;
  /** The node's answer, as it was when the request reached it. */
  messages: Message[];
  /** The step from which it may arrive. */
  due: number;
  pager: boolean;
}

interface Options {
  /** Page requests the reader may have in flight (the message list has one). */
  inFlight: number;
  /** Messages on screen. */
  view: number;
  pLive: number;
  pDelete: number;
  pRefetch: number;
  /** How many steps a request may take. */
  maxDelay: number;
}

class Sim {
  state: ChatState = initialChatState;
  readonly node: Node;
  requests: Request[] = [];
  step = 0;
  /** The message at the top of the view; null while the reader follows the present. */
  anchor: string | null = null;
  following = true;
  liveCame = false;
  /** Set during a traverse: where the view was, and what it showed. */
  seen: Map<string, "in" | "out"> | null = null;
  dir: -1 | 1 = 1;
  failures: string[] = [];

  constructor(
    readonly r: Rng,
    readonly o: Options,
    size: number,
  ) {
    this.node = new Node(r);
    for (let i = 0; i < size; i++) this.node.add();
    // Opening the channel: the latest page.
    this.ask({ limit: defaultPageLimit }, false);
    this.deliver(this.requests[0] as Request);
  }

  get w(): MessageWindow {
    return this.state.windows[channelId] as MessageWindow;
  }

  /** The last few things that happened, for a failure's message. */
  trail: string[] = [];
  note(what: string) {
    const w = this.state.windows[channelId];
    const text = (m: Message | undefined) => m?.text.replace("msg ", "#") ?? "-";
    const at = w ? ` → [${text(w.messages[0])}..${text(w.messages[w.messages.length - 1])}] ${w.messages.length}${w.atOldest ? " oldest" : ""}${w.atNewest ? " newest" : ""}` : "";
    const view = w && this.viewStart() >= 0 ? `, view ${text(w.messages[this.viewStart()])}${this.following ? " following" : ""}` : "";
    this.trail.push(`${this.step}: ${what}${at}${view}`);
    if (this.trail.length > 12) this.trail.shift();
  }

  fail(what: string) {
    if (this.failures.length < 3) this.failures.push(`step ${this.step}: ${what}\n    ${this.trail.join("\n    ")}`);
  }

  dispatch(a: ChatAction) {
    this.state = chatReducer(this.state, a);
  }

  ask(page: MessagePage, pager: boolean) {
    this.requests.push({ page, messages: this.node.fetch(page), due: this.step + this.r.int(0, this.o.maxDelay), pager });
  }

  deliver(q: Request) {
    this.requests = this.requests.filter((x) => x !== q);
    const keep = this.viewStart() >= 0 ? this.w.messages[this.viewStart()]?.id : undefined;
    this.dispatch({ type: "page", channel: channelId, page: q.page, messages: q.messages, keep });
    const t = (m: Message | undefined) => m?.text.replace("msg ", "#") ?? "-";
    this.note(`page ${JSON.stringify({ ...q.page, limit: undefined, before: q.page.before && t(this.node.all[this.node.at.get(q.page.before) as number]), after: q.page.after && t(this.node.all[this.node.at.get(q.page.after) as number]) })} [${t(q.messages[0])}..${t(q.messages[q.messages.length - 1])}] keep ${t(this.node.all[this.node.at.get(keep ?? "") ?? -1])}`);
    // The message list: an after page that came back short means the
    // window is at the present again, and the latest page is refetched.
    if (q.page.after !== undefined && q.messages.length < (q.page.limit ?? defaultPageLimit)) this.ask({ limit: defaultPageLimit }, false);
  }

  /** Where the view starts in the window (its first message's index). */
  viewStart(): number {
    const w = this.state.windows[channelId];
    if (!w) return -1;
    const n = w.messages.length;
    if (this.following || this.anchor === null) return Math.max(0, n - this.o.view);
    const i = w.messages.findIndex((m) => m.id === this.anchor);
    return i;
  }

  /** After every change: put the view back on its anchor, check, record what is shown, and ask for what is needed. */
  settle() {
    const w = this.w;
    let start = this.viewStart();
    if (start < 0) {
      // The anchor is gone: deleted (the view moves to what followed it) or dropped from the window (a jump).
      const was = this.node.at.get(this.anchor as string) ?? 0;
      if (!this.node.dead.has(this.anchor as string) && this.seen) this.fail(`the message at the top of the view (${this.anchor}) left the window`);
      const after = w.messages.findIndex((m) => (this.node.at.get(m.id) ?? 0) > was);
      start = after < 0 ? Math.max(0, w.messages.length - this.o.view) : after;
    }
    start = Math.max(0, Math.min(start, w.messages.length - this.o.view));
    this.anchor = w.messages[start]?.id ?? null;
    this.following = w.atNewest && start + this.o.view >= w.messages.length;
    this.check();
    if (this.seen) {
      const shown = new Set(w.messages.slice(start, start + this.o.view).map((m) => m.id));
      // A message that live ones push out of a view following the present
      // has not been passed by the reader: it is to be seen again.
      for (const [id, s] of this.seen) {
        if (s === "in" && !shown.has(id)) {
          if (this.following && this.dir < 0) this.seen.delete(id);
          else this.seen.set(id, "out");
        }
      }
      for (const id of shown) {
        if (this.seen.get(id) === "out") this.fail(`${this.node.all[this.node.at.get(id) as number]?.text} came back on screen`);
        this.seen.set(id, "in");
      }
    }
    const pagers = this.requests.filter((q) => q.pager).length;
    if (pagers < this.o.inFlight) {
      const n = w.messages.length;
      const page = pageToLoad(w, { start: start < this.o.view, end: n - (start + this.o.view) < this.o.view });
      if (page && !this.requests.some((q) => q.pager && JSON.stringify(q.page) === JSON.stringify({ ...page, limit: defaultPageLimit }))) {
        this.ask({ ...page, limit: defaultPageLimit }, true);
      }
    }
  }

  check() {
    const w = this.w;
    const { list, at } = this.node.live();
    const ids = w.messages.map((m) => m.id);
    if (new Set(ids).size !== ids.length) return this.fail("a message twice in the window");
    if (w.messages.length > liveLimit) this.fail(`${w.messages.length} messages in the window`);
    if (!this.liveCame && w.messages.length > windowLimit) this.fail(`${w.messages.length} messages in the window, and no live message came`);
    if (ids.length === 0) {
      if (list.length > 0 && w.atOldest && w.atNewest) this.fail("an empty window that claims the whole channel");
      return;
    }
    const first = at.get(ids[0] as string);
    if (first === undefined) return this.fail(`a deleted or unknown message in the window: ${ids[0]}`);
    for (let i = 0; i < ids.length; i++) {
      if (list[first + i]?.id !== ids[i]) {
        const got = this.node.all[this.node.at.get(ids[i] as string) ?? -1]?.text;
        return this.fail(`not a run of the channel: at ${i} of ${ids.length} the window has ${got}, the channel ${list[first + i]?.text}`);
      }
    }
    if (w.atOldest && first !== 0) this.fail(`atOldest, but ${first} older messages exist`);
    if (w.atNewest && first + ids.length !== list.length) this.fail(`atNewest, but ${list.length - first - ids.length} newer messages exist`);
  }

  /** One thing happens: a page arrives, a message comes or goes, the latest page is refetched, or the reader scrolls by `scroll` messages. */
  tick(scroll: () => number) {
    this.step++;
    const r = this.r;
    const due = this.requests.filter((q) => q.due <= this.step);
    if (due.length > 0 && r.chance(0.5)) {
      this.deliver(r.pick(due));
    } else if (r.chance(this.o.pLive)) {
      this.liveCame = true;
      const m = this.node.add();
      this.dispatch({ type: "message:new", seq: this.step, data: m });
      this.note(`live ${m.text}`);
    } else if (r.chance(this.o.pDelete)) {
      const { list } = this.node.live();
      const start = this.viewStart();
      const shown = new Set(this.w.messages.slice(start, start + this.o.view).map((m) => m.id));
      const m = list.length ? r.pick(list) : undefined;
      // Not one on screen during a traverse: the rows below would move up into the view.
      if (m && !(this.seen && shown.has(m.id))) {
        this.node.delete(m.id);
        this.dispatch({ type: "message:delete", seq: this.step, data: { id: m.id, channel: channelId } });
        this.note(`delete ${m.text}`);
      }
    } else if (r.chance(this.o.pRefetch)) {
      this.ask({ limit: defaultPageLimit }, false);
    } else {
      const by = scroll();
      const w = this.w;
      const start = this.viewStart() + by;
      const clamped = Math.max(0, Math.min(start, w.messages.length - this.o.view));
      this.anchor = w.messages[clamped]?.id ?? null;
      this.following = w.atNewest && clamped + this.o.view >= w.messages.length;
      this.note(`scroll ${by}`);
    }
    this.settle();
  }

  /** Scrolls towards an end (-1: the oldest) by up to a view a step until the view is at that end of the channel. */
  traverse(dir: -1 | 1, maxSteps: number): boolean {
    const { list } = this.node.live();
    const before = new Set(list.map((m) => m.id));
    // From where the view is now: going up, what is above its bottom; going down, what is below its top.
    const start = this.viewStart();
    const from = this.node.at.get(this.w.messages[dir < 0 ? Math.min(this.w.messages.length, start + this.o.view) - 1 : start]?.id ?? "") ?? (dir < 0 ? Infinity : 0);
    this.seen = new Map();
    this.dir = dir;
    this.settle();
    for (let k = 0; k < maxSteps; k++) {
      const w = this.w;
      const start = this.viewStart();
      if (dir < 0 ? w.atOldest && start === 0 : this.following) break;
      this.tick(() => dir * this.r.int(0, this.o.view));
      if (this.failures.length) return false;
    }
    const w = this.w;
    const done = dir < 0 ? w.atOldest && this.viewStart() === 0 : this.following;
    if (!done) this.fail(`did not reach the ${dir < 0 ? "oldest" : "newest"} message in ${maxSteps} steps (window of ${w.messages.length}, atOldest ${w.atOldest}, atNewest ${w.atNewest}, ${this.requests.length} requests in flight)`);
    // Every message that was there all along (going up), or is there at the end (going down), was on screen.
    const now = this.node.live().list;
    const pos = (m: Message) => this.node.at.get(m.id) as number;
    const want = dir < 0 ? now.filter((m) => before.has(m.id) && pos(m) <= from) : now.filter((m) => pos(m) >= from);
    const missed = want.filter((m) => !this.seen?.has(m.id));
    if (missed.length) this.fail(`${missed.length} messages never on screen, e.g. ${missed.slice(0, 5).map((m) => m.text).join(", ")}`);
    this.seen = null;
    return this.failures.length === 0;
  }
}

const seeds = Array.from({ length: 120 }, (_, i) => 0x5eed + i * 7919);

function options(r: Rng): Options {
  const quiet = r.chance(0.3);
  return {
    inFlight: r.chance(0.7) ? 1 : r.int(2, 3),
    view: r.int(1, 40),
    pLive: quiet ? 0 : r.pick([0.01, 0.05, 0.2]),
    pDelete: quiet ? 0 : r.pick([0, 0.01, 0.05]),
    pRefetch: r.pick([0, 0.02, 0.1]),
    maxDelay: r.pick([0, 2, 10, 40]),
  };
}

describe("the window, simulated", () => {
  it.each(seeds)("seed %i: contiguous, bounded, and a traverse shows every message once", (seed) => {
    const r = rng(seed);
    const o = options(r);
    const size = r.int(1, 1000);
    const sim = new Sim(r, o, size);
    const label = `seed ${seed}: ${size} messages, ${JSON.stringify(o)}`;
    // Scrolling about: random directions, random amounts, jumps of many views.
    for (let k = 0; k < 400 && sim.failures.length === 0; k++) {
      sim.tick(() => (r.chance(0.5) ? -1 : 1) * (r.chance(0.1) ? r.int(0, 600) : r.int(0, 2 * o.view)));
    }
    expect(sim.failures.join("\n"), `${label}, scrolling about`).toBe("");
    // Back to the present (down), then the whole history up and down again.
    const steps = 40 * (size + 2000);
    for (const [dir, what] of [[1, "down to the present"], [-1, "up to the oldest"], [1, "down to the newest"]] as const) {
      sim.traverse(dir, steps);
      expect(sim.failures.join("\n"), `${label}, ${what}`).toBe("");
    }
  });
});
