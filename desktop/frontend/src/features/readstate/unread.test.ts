import { describe, expect, it } from "vitest";
import type { Message } from "@/api/types";
import { messageRows } from "@/lib/group";
import { noUnread, ReadMarks, readMarksKey, unreadReducer, type MarkStorage, type Reader } from "./unread";

/** The local user, me, who holds no role. */
const me: Reader = { user: "me", rolesIn: () => [] };

const msg = (over: Partial<Message>): Message => ({
  id: "m1", channel: "c1", author: "bob", text: "hi", mentions: [], everyone: false,
  created_at: "2026-11-26T00:00:00Z", edited_at: null, reactions: [], state: "sent", ...over,
});

/** Messages m1…mn in c1, a second apart, all from bob. */
const history = (n: number) =>
  Array.from({ length: n }, (_, i) => msg({ id: `m${i + 1}`, created_at: new Date(Date.UTC(2026, 10, 26, 0, 0, i)).toISOString() }));

function memoryStorage(): MarkStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe("unreadReducer", () => {
  it("counts a mention of a role the reader holds in that channel's community", () => {
    const mods = "bafyreimods";
    const modOfC1: Reader = { user: "me", rolesIn: (channel) => (channel === "c1" ? [mods] : []) };
    const text = `hey <@&${mods}>`;
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({ text }) }, modOfC1, null);
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({ id: "m2", channel: "c2", text }) }, modOfC1, null);
    expect(s.channels.c1).toMatchObject({ count: 1, mentions: 1 });
    expect(s.channels.c2).toMatchObject({ count: 1, mentions: 0 });
    // In code, a role token is no mention.
    s = unreadReducer(s, { type: "message:new", seq: 3, data: msg({ id: "m3", text: `\`<@&${mods}>\`` }) }, modOfC1, null);
    expect(s.channels.c1).toMatchObject({ count: 2, mentions: 1 });
  });

  it("counts others' messages in channels not on screen, and mentions", () => {
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({}) }, me, "c2");
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({ id: "m2", mentions: ["me"] }) }, me, "c2");
    s = unreadReducer(s, { type: "message:new", seq: 3, data: msg({ id: "m3", everyone: true }) }, me, "c2");
    expect(s.channels.c1).toMatchObject({ count: 3, mentions: 2 });
    expect(unreadReducer(s, { type: "message:new", seq: 4, data: msg({ id: "m2", mentions: ["me"] }) }, me, "c2")).toBe(s);
  });
  it("ignores own messages and the open channel", () => {
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({ author: "me" }) }, me, null);
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({}) }, me, "c1");
    expect(s).toBe(noUnread);
  });
  it("clears a channel when read, and everything on resync", () => {
    const s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({}) }, me, null);
    expect(unreadReducer(s, { type: "read", channel: "c1" }, me, null).channels.c1).toBeUndefined();
    expect(unreadReducer(s, { type: "resync", seq: 2 } as never, me, null)).toBe(noUnread);
  });
  it("uncounts a deleted message", () => {
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({ mentions: ["me"] }) }, me, null);
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({ id: "m2" }) }, me, null);
    s = unreadReducer(s, { type: "message:delete", seq: 3, data: { id: "m1", channel: "c1" } }, me, null);
    expect(s.channels.c1).toMatchObject({ count: 1, mentions: 0 });
    expect(unreadReducer(s, { type: "message:delete", seq: 4, data: { id: "m9", channel: "c1" } }, me, null)).toBe(s);
    expect(unreadReducer(s, { type: "message:delete", seq: 5, data: { id: "m2", channel: "c1" } }, me, null)).toEqual(noUnread);
  });
  it("counts a fetched page after the read mark, once with what came live", () => {
    const page = history(5);
    const live = unreadReducer(noUnread, { type: "message:new", seq: 1, data: page[4]! }, me, null);
    const s = unreadReducer(live, { type: "counted", channel: "c1", messages: page, lastRead: { id: "m2" } }, me, null);
    expect(s.channels.c1).toMatchObject({ count: 3, ids: { m3: false, m4: false, m5: false } });
    // By time when the marked message is gone; everything when the mark is older than the page.
    const byTime = unreadReducer(noUnread, { type: "counted", channel: "c1", messages: page, lastRead: { id: "gone", at: page[3]!.created_at } }, me, null);
    expect(byTime.channels.c1?.count).toBe(1);
    const all = unreadReducer(noUnread, { type: "counted", channel: "c1", messages: page, lastRead: { at: "2020-01-01T00:00:00Z" } }, me, null);
    expect(all.channels.c1?.count).toBe(5);
    expect(unreadReducer(noUnread, { type: "counted", channel: "c1", messages: page, lastRead: { id: "m5" } }, me, null)).toBe(noUnread);
    expect(unreadReducer(noUnread, { type: "counted", channel: "c1", messages: page, lastRead: { id: "m1" } }, me, "c1")).toBe(noUnread);
  });
});

describe("ReadMarks", () => {
  it("keeps each channel's mark per user across a restart", () => {
    const storage = memoryStorage();
    const marks = new ReadMarks(storage, "me");
    expect(marks.get("c1")).toBeNull();
    expect(marks.markRead("c1", history(3)[2]!)).toBe(true);
    expect(marks.markRead("c1", history(3)[2]!)).toBe(false);
    marks.markSeen("c2", "2026-11-26T01:00:00Z");
    marks.markSeen("c2", "2026-11-26T02:00:00Z");
    const reloaded = new ReadMarks(storage, "me");
    expect(reloaded.get("c1")).toEqual({ id: "m3", at: history(3)[2]!.created_at });
    expect(reloaded.get("c2")).toEqual({ at: "2026-11-26T01:00:00Z" });
    expect(new ReadMarks(storage, "someone-else").get("c1")).toBeNull();
    expect([...storage.data.keys()]).toEqual([readMarksKey("me")]);
  });

  it("never moves a mark back", () => {
    const marks = new ReadMarks(memoryStorage(), "me");
    const [m1, m2] = history(2);
    marks.markRead("c1", m2!);
    expect(marks.markRead("c1", m1!)).toBe(false);
    expect(marks.get("c1")?.id).toBe("m2");
  });

  it("survives storage that fails or holds junk", () => {
    const broken: MarkStorage = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("full");
      },
    };
    const marks = new ReadMarks(broken, "me");
    expect(marks.markRead("c1", history(1)[0]!)).toBe(true);
    expect(marks.get("c1")?.id).toBe("m1");
    const junk = memoryStorage();
    junk.setItem(readMarksKey("me"), '{"c1": 5, "c2": {"id": "m1"}, "c3": {}}');
    const read = new ReadMarks(junk, "me");
    expect([read.get("c1"), read.get("c2"), read.get("c3")]).toEqual([null, { id: "m1" }, null]);
    junk.setItem(readMarksKey("me"), "not json");
    expect(new ReadMarks(junk, "me").get("c2")).toBeNull();
  });

  it("puts the unread divider where the reader left off, after a reload", () => {
    const storage = memoryStorage();
    const page = history(6);
    new ReadMarks(storage, "me").markRead("c1", page[2]!);
    const lastRead = new ReadMarks(storage, "me").get("c1");
    const rows = messageRows(page, { lastRead, self: "me" });
    expect(rows.map((r) => r.key)).toEqual([rows[0]!.key, "m1", "m2", "m3", "unread", "m4", "m5", "m6"]);
    const counted = unreadReducer(noUnread, { type: "counted", channel: "c1", messages: page, lastRead: lastRead! }, me, null);
    expect(counted.channels.c1?.count).toBe(3);
  });
});
