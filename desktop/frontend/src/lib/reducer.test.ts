import { describe, expect, it } from "vitest";
import type { ApiEvent, Message } from "@/api/types";
import { chatReducer, compareMessages, initialChatState, typingIn, type ChatAction, type ChatState } from "./reducer";

const A = "a".repeat(52);
const B = "b".repeat(52);

function msg(id: string, created_at: string, extra: Partial<Message> = {}): Message {
  return {
    id,
    channel: "c1",
    author: A,
    text: id,
    mentions: [],
    everyone: false,
    created_at,
    edited_at: null,
    reactions: [],
    state: "sent",
    ...extra,
  };
}

let seq = 0;
type Unsequenced = ApiEvent extends infer E ? (E extends ApiEvent ? Omit<E, "seq"> : never) : never;
const ev = (e: Unsequenced): ApiEvent => ({ ...e, seq: ++seq });
/** The channel's window opened on an empty channel, so live messages join it. */
const open = (channel: string): ChatAction => ({ type: "page", channel, page: {}, messages: [] });
const opened = [open("c1"), open("c2")].reduce(chatReducer, initialChatState);
const run = (actions: ChatAction[], from: ChatState = opened) => actions.reduce(chatReducer, from);
const list = (s: ChatState, channel = "c1") => s.windows[channel]?.messages;
const ids = (s: ChatState, channel = "c1") => list(s, channel)?.map((m) => m.id);
const page = (messages: Message[], channel = "c1"): ChatAction => ({ type: "page", channel, page: {}, messages });

const m1 = msg("b1", "2024-05-01T10:00:00Z");
const m2 = msg("b2", "2024-05-01T10:00:01Z");
const m3 = msg("b3", "2024-05-01T10:00:02Z");

describe("chatReducer: messages", () => {
  it("keeps each channel's messages by created_at, live ones of one millisecond in the order they came", () => {
    const same = "2024-05-01T10:00:01Z";
    const s = run([
      ev({ type: "message:new", data: m3 }),
      ev({ type: "message:new", data: m1 }),
      ev({ type: "message:new", data: msg("b2z", same) }),
      ev({ type: "message:new", data: msg("b2a", same) }),
      ev({ type: "message:new", data: msg("o1", "2024-05-01T10:00:00Z", { channel: "c2" }) }),
    ]);
    // The node orders messages of one millisecond by its clock, not by ID:
    // a live message is most likely the newest of its millisecond.
    expect(ids(s)).toEqual(["b1", "b2z", "b2a", "b3"]);
    expect(ids(s, "c2")).toEqual(["o1"]);
  });

  it("orders by the time's every digit, not by its text", () => {
    // Go trims trailing zeros from fractions: .5 is after .123, 10:00:00Z before 10:00:00.001Z.
    const a = msg("bz", "2024-05-01T10:00:00.123Z");
    const b = msg("ba", "2024-05-01T10:00:00.5Z");
    const c = msg("bb", "2024-05-01T10:00:00Z");
    const d = msg("bc", "2024-05-01T10:00:00.123000001Z");
    const e = msg("bd", "2024-05-01T12:00:00.2+02:00");
    expect([a, b, c, d, e].sort(compareMessages).map((m) => m.id)).toEqual(["bb", "bz", "bc", "bd", "ba"]);
  });

  it("applies message:new idempotently", () => {
    const once = run([ev({ type: "message:new", data: m1 }), ev({ type: "message:new", data: m2 })]);
    const twice = run([ev({ type: "message:new", data: { ...m1 } }), ev({ type: "message:new", data: m2 })], once);
    expect(twice).toBe(once);
    expect(ids(twice)).toEqual(["b1", "b2"]);
  });

  it("replaces a message that arrives again changed", () => {
    const s = run([
      ev({ type: "message:new", data: { ...m1, state: "pending" } }),
      ev({ type: "message:new", data: m1 }),
    ]);
    expect(list(s)).toEqual([m1]);
  });

  it("applies edits to loaded messages only", () => {
    const edited = { ...m1, text: "edited", edited_at: "2024-05-01T11:00:00Z" };
    const s = run([ev({ type: "message:new", data: m1 }), ev({ type: "message:update", data: edited })]);
    expect(list(s)).toEqual([edited]);
    expect(chatReducer(s, ev({ type: "message:update", data: edited }))).toBe(s);
    expect(chatReducer(s, ev({ type: "message:update", data: { ...m2, text: "x" } }))).toBe(s);
    expect(chatReducer(initialChatState, ev({ type: "message:update", data: m1 }))).toBe(initialChatState);
  });

  it("deletes, and a repeated or unknown delete changes nothing", () => {
    const s = run([
      ev({ type: "message:new", data: m1 }),
      ev({ type: "message:new", data: m2 }),
      ev({ type: "message:delete", data: { id: "b1", channel: "c1" } }),
    ]);
    expect(ids(s)).toEqual(["b2"]);
    expect(chatReducer(s, ev({ type: "message:delete", data: { id: "b1", channel: "c1" } }))).toBe(s);
    expect(ids(chatReducer(s, ev({ type: "message:delete", data: { id: "b2", channel: "c1" } })))).toEqual([]);
  });

  it("keeps deleted messages out, even from a page fetched before the delete", () => {
    const s = run([
      ev({ type: "message:new", data: m1 }),
      ev({ type: "message:delete", data: { id: "b1", channel: "c1" } }),
      ev({ type: "message:delete", data: { id: "b2", channel: "c1" } }),
      page([m1, m2, m3]),
      ev({ type: "message:new", data: m2 }),
    ]);
    expect(ids(s)).toEqual(["b3"]);
    expect(chatReducer(s, { type: "resync" }).deleted).toEqual({});
  });

  it("does not let a stale page undo an edit or a send", () => {
    const edited = { ...m1, text: "edited", edited_at: "2024-05-01T11:00:00Z" };
    const s = run([
      ev({ type: "message:new", data: m1 }),
      ev({ type: "message:update", data: edited }),
      ev({ type: "message:new", data: { ...m2, state: "pending" } }),
      ev({ type: "message:update", data: m2 }),
    ]);
    const stale = chatReducer(s, page([m1, { ...m2, state: "pending" }]));
    expect(list(stale)).toEqual([edited, m2]);
    const later = { ...edited, text: "again", edited_at: "2024-05-01T12:00:00Z" };
    expect(list(chatReducer(s, page([later])))?.[0]).toEqual(later);
  });

  it("merges fetched pages without duplicates", () => {
    const s = run([
      ev({ type: "message:new", data: m3 }),
      page([m1, m2, { ...m3 }]),
    ]);
    expect(ids(s)).toEqual(["b1", "b2", "b3"]);
    expect(chatReducer(s, page([{ ...m1 }, { ...m2 }]))).toBe(s);
    const older = msg("b0", "2024-05-01T09:00:00Z");
    const before: ChatAction = { type: "page", channel: "c1", page: { before: "b1" }, messages: [older] };
    expect(ids(chatReducer(s, before))).toEqual(["b0", "b1", "b2", "b3"]);
  });

  it("marks a channel loaded by an empty page", () => {
    const s = chatReducer(initialChatState, open("c9"));
    expect(s.windows.c9).toEqual({ messages: [], atOldest: true, atNewest: true });
    expect(chatReducer(s, open("c9"))).toBe(s);
  });

  it("jumps: the window becomes the page, and live messages follow only a window at the present", () => {
    const far: ChatAction = { type: "jump", channel: "c1", page: { around: "b2" }, messages: [m1, m2] };
    const s = run([ev({ type: "message:new", data: m3 }), far]);
    expect(s.windows.c1).toEqual({ messages: [m1, m2], atOldest: false, atNewest: false });
    const later = msg("b4", "2024-05-01T10:00:03Z");
    // Left out, but noted: a page on its way since cannot bring the window to the present without it.
    const away = chatReducer(s, ev({ type: "message:new", data: later }));
    expect(list(away)).toBe(list(s));
    expect(away.windows.c1).toMatchObject({ atNewest: false, missed: later });
    const present = chatReducer(s, { type: "jump", channel: "c1", page: { limit: 50 }, messages: [m2, m3] });
    expect(present.windows.c1).toEqual({ messages: [m2, m3], atOldest: true, atNewest: true });
    expect(ids(chatReducer(present, ev({ type: "message:new", data: later })))).toEqual(["b2", "b3", "b4"]);
    // A jump to the present fetched before `later` came does not reach it.
    const stale = chatReducer(away, { type: "jump", channel: "c1", page: { limit: 50 }, messages: [m2, m3] });
    expect(stale.windows.c1).toMatchObject({ messages: [m2, m3], atNewest: false, missed: later });
    const fresh = chatReducer(away, { type: "jump", channel: "c1", page: { limit: 50 }, messages: [m2, m3, later] });
    expect(fresh.windows.c1).toEqual({ messages: [m2, m3, later], atOldest: true, atNewest: true });
  });

  it("never changes the state it is given", () => {
    const s = run([ev({ type: "message:new", data: m1 }), page([m1, m2])]);
    const frozen = JSON.stringify(s);
    const before = list(s);
    run(
      [
        ev({ type: "message:new", data: m3 }),
        ev({ type: "message:update", data: { ...m1, text: "e" } }),
        ev({ type: "reaction:add", data: { message: "b1", channel: "c1", emoji: "👍", user: A } }),
        ev({ type: "message:delete", data: { id: "b2", channel: "c1" } }),
        ev({ type: "user:typing", data: { community: "k", channel: "c1", user: B, until: "2024-05-01T10:00:08Z" } }),
        ev({ type: "user:presence", data: { community: "k", user: B, status: "idle" } }),
      ],
      s,
    );
    expect(JSON.stringify(s)).toBe(frozen);
    expect(list(s)).toBe(before);
  });

  it("forgets everything on resync", () => {
    const s = run([ev({ type: "message:new", data: m1 })]);
    expect(chatReducer(s, { type: "resync", seq: 4 })).toEqual(initialChatState);
    expect(chatReducer(s, { type: "resync", seq: 4 }).windows).toEqual({});
    expect(chatReducer(s, { type: "resync" })).toBe(initialChatState);
  });

  it("drops a deleted channel's messages", () => {
    const s = run([
      ev({ type: "message:new", data: m1 }),
      ev({ type: "channel:delete", data: { id: "c1", community: "k" } }),
    ]);
    expect(list(s)).toBeUndefined();
    expect(chatReducer(s, ev({ type: "channel:delete", data: { id: "c1", community: "k" } }))).toBe(s);
  });
});

describe("chatReducer: reactions", () => {
  const base = run([ev({ type: "message:new", data: m1 })]);
  const react = (type: "reaction:add" | "reaction:remove", emoji: string, user: string) =>
    ev({ type, data: { message: "b1", channel: "c1", emoji, user } });

  it("adds by user and emoji, idempotently", () => {
    const s = run([react("reaction:add", "👍", A), react("reaction:add", "👍", B), react("reaction:add", "🎉", A)], base);
    expect(list(s)?.[0]?.reactions).toEqual([
      { emoji: "👍", users: [A, B] },
      { emoji: "🎉", users: [A] },
    ]);
    expect(chatReducer(s, react("reaction:add", "👍", B))).toBe(s);
  });

  it("removes by user and emoji, idempotently, dropping emptied emoji", () => {
    const s = run([react("reaction:add", "👍", A), react("reaction:add", "👍", B), react("reaction:remove", "👍", A)], base);
    expect(list(s)?.[0]?.reactions).toEqual([{ emoji: "👍", users: [B] }]);
    expect(chatReducer(s, react("reaction:remove", "👍", A))).toBe(s);
    expect(chatReducer(s, react("reaction:remove", "🎉", A))).toBe(s);
    const t = chatReducer(s, react("reaction:remove", "👍", B));
    expect(list(t)?.[0]?.reactions).toEqual([]);
  });

  it("ignores reactions to messages not loaded", () => {
    const s = chatReducer(base, ev({ type: "reaction:add", data: { message: "nope", channel: "c1", emoji: "x", user: A } }));
    expect(s).toBe(base);
  });
});

describe("chatReducer: typing and presence", () => {
  const typing = (user: string, until: string, channel = "c1") =>
    ev({ type: "user:typing", data: { community: "k", channel, user, until } });

  it("tracks who types where until when", () => {
    const s = run([typing(A, "2024-05-01T10:00:08Z"), typing(B, "2024-05-01T10:00:05Z"), typing(A, "2024-05-01T10:00:09Z", "c2")]);
    expect(s.typing).toEqual({
      c1: { [A]: Date.parse("2024-05-01T10:00:08Z"), [B]: Date.parse("2024-05-01T10:00:05Z") },
      c2: { [A]: Date.parse("2024-05-01T10:00:09Z") },
    });
    const at6 = Date.parse("2024-05-01T10:00:06Z");
    expect(typingIn(s, "c1", at6)).toEqual([A]);
    expect(typingIn(s, "c1", at6, A)).toEqual([]);
    const expired = chatReducer(s, { type: "typing:expire", now: at6 });
    expect(expired.typing).toEqual({ c1: { [A]: Date.parse("2024-05-01T10:00:08Z") }, c2: s.typing.c2 });
    expect(chatReducer(expired, { type: "typing:expire", now: at6 })).toBe(expired);
    expect(chatReducer(expired, { type: "typing:expire", now: Date.parse("2024-05-01T11:00:00Z") }).typing).toEqual({});
  });

  it("ends a user's typing when their message arrives", () => {
    const s = run([typing(A, "2024-05-01T10:00:08Z"), typing(B, "2024-05-01T10:00:08Z"), ev({ type: "message:new", data: m1 })]);
    expect(Object.keys(s.typing.c1 ?? {})).toEqual([B]);
  });

  it("tracks presence per community", () => {
    const p = (community: string, user: string, status: "online" | "idle" | "dnd" | "offline") =>
      ev({ type: "user:presence", data: { community, user, status } });
    const s = run([p("k1", A, "online"), p("k2", A, "dnd"), p("k1", B, "idle"), p("k1", A, "offline")]);
    expect(s.presence).toEqual({ k1: { [A]: "offline", [B]: "idle" }, k2: { [A]: "dnd" } });
    expect(chatReducer(s, p("k1", B, "idle"))).toBe(s);
  });

  it("leaves events it does not keep alone", () => {
    const s = run([ev({ type: "message:new", data: m1 })]);
    expect(chatReducer(s, { type: "hello", seq: 1 })).toBe(s);
    expect(chatReducer(s, ev({ type: "network:update", data: { peer: "p", connected: true } }))).toBe(s);
  });
});
