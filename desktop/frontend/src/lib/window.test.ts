import { describe, expect, it } from "vitest";
import type { Message, MessagePage } from "@/api/types";
import { defaultPageLimit, mergeRuns, windowLimit, windowOf, withChange, withLive, withPage, withoutMessage, type MessageWindow } from "./window";

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
    // Live messages do not join a window that left the present.
    expect(withLive(w, msg(9_999))).toBe(w);
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
    expect(withLive(w, msg(30))).toBe(w);
    expect(withLive(w, msg(5))).toBe(w);
    expect(ids(withLive(w, msg(15)))).toEqual(["msg 10", "msg 15", "msg 20"]);
    expect(ids(withLive(windowOf({}, []), msg(1)))).toEqual(["msg 1"]);
  });

  it("drops the oldest half when live messages double the window", () => {
    let w: MessageWindow | undefined = windowOf({}, []);
    for (let i = 1; i <= 2 * windowLimit; i++) w = withLive(w, msg(i));
    expect(w?.messages).toHaveLength(2 * windowLimit);
    w = withLive(w, msg(2 * windowLimit + 1));
    expect(w?.messages).toHaveLength(windowLimit);
    expect(w).toMatchObject({ atOldest: false, atNewest: true });
    expect(w?.messages.at(-1)?.text).toBe(`msg ${2 * windowLimit + 1}`);
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
