import { describe, expect, it } from "vitest";
import type { Message, MessagePage } from "@/api/types";
import {
  defaultPageLimit, liveLimit, mergeRuns, pageToLoad, windowLimit, windowOf, withChange, withJump, withLive, withPage, withoutMessage, type MessageWindow,
} from "./window";

const A = "a".repeat(52);

function msg(n: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${String(n).padStart(6, "0")}`,
    channel: "c",
    author: A,
    text: `msg ${n}`,
    mentions: [],
    everyone: false,
    created_at: new Date(Date.UTC(2024, 4, 1) + n * 1000).toISOString(),
    edited_at: null,
    reactions: [],
    state: "sent",
    ...extra,
  };
}

/** A channel of n messages, oldest first, and a node that pages it like the real one. */
function channel(n: number) {
  const all = Array.from({ length: n }, (_, i) => msg(i + 1));
  const index = (id: string) => all.findIndex((m) => m.id === id);
  const fetch = (page: MessagePage): Message[] => {
    const limit = page.limit ?? defaultPageLimit;
    if (page.before !== undefined) {
      const i = index(page.before);
      return all.slice(Math.max(0, i - limit), i);
    }
    if (page.after !== undefined) {
      const i = index(page.after);
      return all.slice(i + 1, i + 1 + limit);
    }
    if (page.around !== undefined) {
      const i = index(page.around);
      const start = Math.max(0, i - Math.floor(limit / 2));
      return all.slice(start, start + limit);
    }
    return all.slice(Math.max(0, n - limit));
  };
  return { all, fetch };
}

const ids = (w: MessageWindow | undefined) => w?.messages.map((m) => m.text);

describe("withPage", () => {
  it("starts a window with the latest page, at the oldest when the page is short", () => {
    const c = channel(120);
    const w = withPage(undefined, {}, c.fetch({}));
    expect(w).toMatchObject({ atOldest: false, atNewest: true });
    expect(ids(w)).toEqual(c.all.slice(70).map((m) => m.text));
    expect(withPage(undefined, {}, channel(3).fetch({}))).toMatchObject({ atOldest: true, atNewest: true });
  });

  it("puts an older page in front as the node ordered it, with no sort", () => {
    // Two messages of one millisecond: the node orders them by its own
    // clock and CID, which the client cannot tell from their IDs.
    const t = "2024-05-01T10:00:00Z";
    const x = { ...msg(1), id: "bz", created_at: t };
    const y = { ...msg(2), id: "ba", created_at: t };
    const w = windowOf({}, [msg(3)]);
    const next = withPage(w, { before: msg(3).id, limit: 2 }, [x, y]);
    expect(next?.messages.map((m) => m.id)).toEqual(["bz", "ba", msg(3).id]);
    expect(next).toMatchObject({ atOldest: false, atNewest: true });
    expect(withPage(next, { before: "bz", limit: 2 }, [])).toMatchObject({ atOldest: true });
  });

  it("drops an older or newer page that no longer borders the window", () => {
    const c = channel(200);
    const w = windowOf({}, c.fetch({}));
    expect(withPage(w, { before: "m000100" }, c.fetch({ before: "m000100" }))).toBe(w);
    expect(withPage(w, { after: "m000100" }, c.fetch({ after: "m000100" }))).toBe(w);
    expect(withPage(undefined, { before: "m000100" }, [])).toBeUndefined();
  });

  it("leaves deleted messages out of every page", () => {
    const c = channel(10);
    const w = withPage(undefined, {}, c.fetch({}), { [c.all[4]!.id]: true });
    expect(ids(w)).not.toContain("msg 5");
    expect(w?.messages).toHaveLength(9);
  });

  it("merges a latest page that overlaps, keeping messages that arrived since", () => {
    const c = channel(60);
    const w = windowOf({}, c.all.slice(0, 55));
    const live = withLive(w, { ...c.all[55]!, state: "pending" });
    const merged = withPage(live, {}, c.fetch({}));
    expect(ids(merged)).toEqual(c.all.map((m) => m.text));
    // The page fetched before the pending message was sent does not undo the send.
    const sent = withLive(merged, c.all[55]!);
    expect(withPage(sent, {}, c.fetch({}).map((m) => (m.id === c.all[55]!.id ? { ...m, state: "pending" as const } : m)))).toBe(sent);
  });

  it("no longer reaches the present when the latest page does not overlap it", () => {
    const c = channel(500);
    const w = windowOf({}, c.all.slice(0, 50));
    const gap = withPage(w, {}, c.fetch({}));
    expect(gap).toMatchObject({ atNewest: false });
    expect(gap?.messages).toBe(w.messages);
    expect(withPage(gap, {}, c.fetch({}))).toBe(gap);
  });

  it("replaces the window with a page around a message", () => {
    const c = channel(500);
    const w = withPage(windowOf({}, c.fetch({})), { around: "m000250" }, c.fetch({ around: "m000250" }));
    expect(w).toMatchObject({ atOldest: false, atNewest: false });
    expect(ids(w)?.[0]).toBe("msg 225");
  });
});

describe("a full traverse", () => {
  it("holds at most windowLimit messages, always a contiguous run, from the newest to the oldest and back", () => {
    const c = channel(5_003);
    let w = windowOf({}, c.fetch({}));
    const check = () => {
      const first = c.all.findIndex((m) => m.id === w.messages[0]?.id);
      expect(w.messages.length).toBeLessThanOrEqual(windowLimit);
      expect(w.messages).toEqual(c.all.slice(first, first + w.messages.length));
      expect(w.atOldest).toBe(first === 0);
      expect(w.atNewest).toBe(first + w.messages.length === c.all.length);
    };
    let pages = 0;
    while (!w.atOldest) {
      const page = { before: w.messages[0]!.id };
      w = withPage(w, page, c.fetch(page))!;
      pages++;
      check();
    }
    expect(pages).toBe(Math.ceil((5_003 - defaultPageLimit) / defaultPageLimit));
    expect(w.messages[0]).toBe(c.all[0]);
    // Live messages do not join a window that left the present (they are noted as missed).
    expect(withLive(w, msg(9_999))?.messages).toBe(w.messages);
    while (!w.atNewest) {
      const page = { after: w.messages[w.messages.length - 1]!.id };
      w = withPage(w, page, c.fetch(page))!;
      check();
    }
    expect(w.messages[w.messages.length - 1]).toBe(c.all[c.all.length - 1]);
    expect(ids(withLive(w, msg(9_999)))?.at(-1)).toBe("msg 9999");
  });
});

describe("withLive", () => {
  it("puts a message in its place and replaces a copy it has", () => {
    const w = windowOf({}, [msg(1), msg(3)]);
    const next = withLive(w, msg(2));
    expect(ids(next)).toEqual(["msg 1", "msg 2", "msg 3"]);
    expect(withLive(next, { ...msg(2) })).toBe(next);
    expect(withLive(next, { ...msg(2), text: "changed" })?.messages[1]?.text).toBe("changed");
    expect(withLive(undefined, msg(1))).toBeUndefined();
  });

  it("leaves out a message beyond an end the window does not reach", () => {
    const w: MessageWindow = { messages: [msg(10), msg(20)], atOldest: false, atNewest: false };
    expect(withLive(w, msg(30))).toEqual({ ...w, missed: msg(30) });
    expect(withLive(w, msg(5))).toBe(w);
    expect(ids(withLive(w, msg(15)))).toEqual(["msg 10", "msg 15", "msg 20"]);
    expect(ids(withLive(windowOf({}, []), msg(1)))).toEqual(["msg 1"]);
  });

  it("stops short of the present when live messages double the window, and pages on from there", () => {
    let w: MessageWindow | undefined = windowOf({}, []);
    for (let i = 1; i <= liveLimit; i++) w = withLive(w, msg(i));
    expect(w?.messages).toHaveLength(liveLimit);
    // The reader may be anywhere in it: nothing is dropped, the window ends where it is.
    const full = withLive(w, msg(liveLimit + 1));
    expect(full?.messages).toBe(w?.messages);
    expect(full).toMatchObject({ atOldest: true, atNewest: false, missed: msg(liveLimit + 1) });
    // A reader at the bottom asks for what follows: the oldest part goes then.
    const last = full!.messages.at(-1)!.id;
    const next = withPage(full, { after: last }, [msg(liveLimit + 1), msg(liveLimit + 2)], {}, msg(liveLimit - 10).id);
    expect(next?.messages).toHaveLength(windowLimit);
    expect(next).toEqual({ messages: expect.any(Array), atOldest: false, atNewest: true });
    expect(next?.messages.at(-1)?.text).toBe(`msg ${liveLimit + 2}`);
  });
});

describe("changes and deletes", () => {
  it("change one message, or nothing when it is not loaded", () => {
    const w = windowOf({}, [msg(1), msg(2)]);
    expect(withChange(w, msg(2).id, (m) => ({ ...m, text: "x" }))?.messages[1]?.text).toBe("x");
    expect(withChange(w, "nope", (m) => ({ ...m, text: "x" }))).toBe(w);
    expect(withChange(w, msg(1).id, (m) => m)).toBe(w);
    expect(ids(withoutMessage(w, msg(1).id))).toEqual(["msg 2"]);
    expect(withoutMessage(w, "nope")).toBe(w);
  });
});

describe("mergeRuns", () => {
  it("merges two ordered runs, each message once, and returns the first when nothing changes", () => {
    const a = [msg(1), msg(3), msg(5)];
    expect(mergeRuns(a, [msg(2), { ...msg(3) }, msg(4)]).map((m) => m.text)).toEqual(["msg 1", "msg 2", "msg 3", "msg 4", "msg 5"]);
    expect(mergeRuns(a, [{ ...msg(1) }, { ...msg(5) }])).toBe(a);
    expect(mergeRuns(a, [])).toBe(a);
  });

  it("keeps the fresher copy: a later edit, a send over a pending copy", () => {
    const edited = { ...msg(1), text: "edited", edited_at: "2024-05-02T00:00:00Z" };
    expect(mergeRuns([edited], [msg(1)])[0]).toBe(edited);
    const later = { ...edited, text: "again", edited_at: "2024-05-03T00:00:00Z" };
    expect(mergeRuns([edited], [later])[0]).toBe(later);
    expect(mergeRuns([msg(2)], [{ ...msg(2), state: "pending" }])).toEqual([msg(2)]);
  });
});

describe("what the reader sees stays in the window", () => {
  it("drops an older page that would push out what the reader sees, and takes it when they are near the top", () => {
    const c = channel(1_000);
    // A full window of the newest 400.
    let w = windowOf({}, c.all.slice(600));
    w = { ...w, atOldest: false };
    const page = { before: w.messages[0]!.id };
    const older = c.fetch(page);
    // The reader has gone down to the bottom while the page was on its way.
    expect(withPage(w, page, older, {}, c.all[990]!.id)).toBe(w);
    // Near the top, it joins and the newest end goes.
    const next = withPage(w, page, older, {}, c.all[610]!.id);
    expect(next?.messages).toHaveLength(windowLimit);
    expect(next?.messages[0]).toBe(c.all[550]);
    expect(next).toMatchObject({ atNewest: false });
    // Not known where the reader is: as before, the page joins.
    expect(withPage(w, page, older)?.messages[0]).toBe(c.all[550]);
  });

  it("drops a newer page that would push out what the reader sees", () => {
    const c = channel(1_000);
    const w: MessageWindow = { messages: c.all.slice(0, windowLimit), atOldest: true, atNewest: false };
    const page = { after: w.messages.at(-1)!.id };
    expect(withPage(w, page, c.fetch(page), {}, c.all[5]!.id)).toBe(w);
    expect(withPage(w, page, c.fetch(page), {}, c.all[390]!.id)?.messages[0]).toBe(c.all[50]);
  });

  it("does not grow a paged window past windowLimit with a latest page, nor drop what may be seen for it", () => {
    const c = channel(1_000);
    // 400 messages, ending 20 short of the present.
    const w: MessageWindow = { messages: c.all.slice(580, 980), atOldest: false, atNewest: false };
    const latest = c.fetch({});
    // Where the reader is is not known: the window stays as it is.
    expect(withPage(w, {}, latest)).toBe(w);
    // A reader at the bottom: the oldest 20 go.
    const next = withPage(w, {}, latest, {}, c.all[970]!.id);
    expect(next?.messages).toEqual(c.all.slice(600));
    expect(next).toMatchObject({ atNewest: true });
  });
});

describe("a page on its way while a live message came", () => {
  it("does not bring the window back to the present without it", () => {
    const c = channel(300);
    const w: MessageWindow = { messages: c.all.slice(0, 260), atOldest: true, atNewest: false };
    const page = { after: w.messages.at(-1)!.id };
    const fetched = c.fetch(page); // the node's 40 newest, fetched now
    const live = msg(301);
    const missed = withLive(w, live)!;
    expect(missed.messages).toBe(w.messages);
    // The page arrives: it ends before the live message, so the window is not at the present yet…
    const stale = withPage(missed, page, fetched)!;
    expect(stale.messages).toEqual(c.all);
    expect(stale).toMatchObject({ atNewest: false, missed: live });
    expect(pageToLoad(stale, { start: false, end: true })).toEqual({ after: c.all[299]!.id });
    // …until a page that has it.
    const fresh = withPage(stale, { after: c.all[299]!.id }, [live])!;
    expect(fresh).toEqual({ messages: [...c.all, live], atOldest: true, atNewest: true });
    // A missed message deleted since, or one older than what the page reached, is no reason to wait.
    expect(withPage(missed, page, fetched, { [live.id]: true })).toMatchObject({ atNewest: true });
    expect(withJump(missed, {}, [...c.fetch({}), live])).toMatchObject({ atNewest: true });
    expect(withJump(missed, {}, c.fetch({}))).toMatchObject({ atNewest: false, missed: live });
  });
});

describe("the order of messages of one millisecond", () => {
  const t = "2024-05-01T10:00:00Z";
  const x = { ...msg(1), id: "bz", created_at: t };
  const y = { ...msg(2), id: "ba", created_at: t };
  const z = { ...msg(3), id: "bm", created_at: t };

  it("a live message goes after those of its time", () => {
    expect(withLive(windowOf({}, [x]), y)?.messages.map((m) => m.id)).toEqual(["bz", "ba"]);
  });

  it("a page's order wins over the window's, and what only the window has stays in its place", () => {
    // The window put y before x; the node pages x, z, y.
    expect(mergeRuns([msg(0), y, x], [x, z, y]).map((m) => m.id)).toEqual([msg(0).id, "bz", "bm", "ba"]);
    // A live message the page was fetched too early for stays after the last they share.
    const live = msg(9);
    expect(mergeRuns([x, y, live], [x, y]).map((m) => m.id)).toEqual(["bz", "ba", live.id]);
  });
});

describe("pageToLoad", () => {
  it("asks before the first message near the start, after the last near the end, nothing at an end of the channel", () => {
    const c = channel(10);
    const w: MessageWindow = { messages: c.all.slice(2, 8), atOldest: false, atNewest: false };
    expect(pageToLoad(w, { start: true, end: true })).toEqual({ before: c.all[2]!.id });
    expect(pageToLoad(w, { start: false, end: true })).toEqual({ after: c.all[7]!.id });
    expect(pageToLoad(w, { start: false, end: false })).toBeNull();
    expect(pageToLoad({ ...w, atOldest: true, atNewest: true }, { start: true, end: true })).toBeNull();
    expect(pageToLoad(undefined, { start: true, end: true })).toBeNull();
    expect(pageToLoad(windowOf({ limit: 50 }, []), { start: true, end: true })).toBeNull();
  });
});
