import { describe, expect, it } from "vitest";
import type { Message } from "../lib/api";
import { noUnread, unreadReducer } from "./unread";

const msg = (over: Partial<Message>): Message => ({
  id: "m1", channel: "c1", author: "bob", text: "hi", mentions: [], everyone: false,
  created_at: "2026-11-26T00:00:00Z", edited_at: null, reactions: [], state: "sent", ...over,
});

describe("unreadReducer", () => {
  it("counts others' messages in channels not on screen, and mentions", () => {
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({}) }, "me", "c2");
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({ id: "m2", mentions: ["me"] }) }, "me", "c2");
    s = unreadReducer(s, { type: "message:new", seq: 3, data: msg({ id: "m3", everyone: true }) }, "me", "c2");
    expect(s.channels.c1).toEqual({ count: 3, mentions: 2 });
  });
  it("ignores own messages and the open channel", () => {
    let s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({ author: "me" }) }, "me", null);
    s = unreadReducer(s, { type: "message:new", seq: 2, data: msg({}) }, "me", "c1");
    expect(s).toBe(noUnread);
  });
  it("clears a channel when read, and everything on resync", () => {
    const s = unreadReducer(noUnread, { type: "message:new", seq: 1, data: msg({}) }, "me", null);
    expect(unreadReducer(s, { type: "read", channel: "c1" }, "me", null).channels.c1).toBeUndefined();
    expect(unreadReducer(s, { type: "resync", seq: 2 } as never, "me", null)).toBe(noUnread);
  });
});
