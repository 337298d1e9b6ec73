import { describe, expect, it } from "vitest";
import type { Message } from "@/api/types";
import { firstUnread, groupWindowMs, localDay, messageRows, type Row } from "./group";

const A = "a".repeat(52);
const B = "b".repeat(52);

// Times in the local zone, so day boundaries hold wherever the test runs.
const at = (day: number, h: number, m: number, s = 0) => new Date(2024, 4, day, h, m, s).toISOString();

function msg(id: string, author: string, created_at: string, extra: Partial<Message> = {}): Message {
  return {
    id,
    channel: "c",
    author,
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

/** Rows in short: "day:YYYY-MM-DD", "unread", "+id" for a group's first message, "id" for the rest. */
const shape = (rows: Row[]) =>
  rows.map((r) => (r.kind === "day" ? `day:${r.day}` : r.kind === "unread" ? "unread" : (r.first ? "+" : "") + r.key));

describe("messageRows", () => {
  it("groups consecutive messages of one author", () => {
    const rows = messageRows([
      msg("1", A, at(1, 10, 0)),
      msg("2", A, at(1, 10, 1)),
      msg("3", B, at(1, 10, 2)),
      msg("4", B, at(1, 10, 3)),
      msg("5", A, at(1, 10, 4)),
    ]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "2", "+3", "4", "+5"]);
    expect(rows.map((r) => r.key)).toEqual(["day:2024-05-01", "1", "2", "3", "4", "5"]);
  });

  it("starts a new group after a gap of more than 7 minutes", () => {
    const t0 = Date.parse(at(1, 10, 0));
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    const rows = messageRows([
      msg("1", A, iso(0)),
      msg("2", A, iso(groupWindowMs)),
      msg("3", A, iso(2 * groupWindowMs + 1)),
      msg("4", A, iso(2 * groupWindowMs + 60_000)),
    ]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "2", "+3", "4"]);
  });

  it("measures the gap from the message before, not the group's first", () => {
    const rows = messageRows([
      msg("1", A, at(1, 10, 0)),
      msg("2", A, at(1, 10, 5)),
      msg("3", A, at(1, 10, 10)),
      msg("4", A, at(1, 10, 15)),
    ]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "2", "3", "4"]);
  });

  it("separates days by the local date and starts a group on each", () => {
    const rows = messageRows([
      msg("1", A, at(1, 23, 58)),
      msg("2", A, at(2, 0, 1)),
      msg("3", A, at(2, 0, 2)),
      msg("4", A, at(5, 9, 0)),
    ]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "day:2024-05-02", "+2", "3", "day:2024-05-05", "+4"]);
  });

  it("gives a reply its own header", () => {
    const rows = messageRows([msg("1", A, at(1, 10, 0)), msg("2", A, at(1, 10, 1), { reply_to: "0" })]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "+2"]);
  });

  it("puts the unread divider above the first message after the last read one", () => {
    const list = [
      msg("1", A, at(1, 10, 0)),
      msg("2", A, at(1, 10, 1)),
      msg("3", A, at(1, 10, 2)),
      msg("4", B, at(1, 10, 3)),
    ];
    expect(shape(messageRows(list, { lastRead: { id: "2" } }))).toEqual([
      "day:2024-05-01",
      "+1",
      "2",
      "unread",
      "+3",
      "+4",
    ]);
    expect(shape(messageRows(list, { lastRead: { id: "4" } }))).not.toContain("unread");
    expect(shape(messageRows(list, { lastRead: null }))).not.toContain("unread");
    expect(shape(messageRows(list))).not.toContain("unread");
  });

  it("places the divider by time when the last read message is not loaded", () => {
    const list = [msg("1", A, at(1, 10, 0)), msg("2", A, at(1, 10, 1)), msg("3", A, at(1, 10, 2))];
    expect(firstUnread(list, { id: "gone", at: at(1, 10, 1) })).toBe(2);
    expect(firstUnread(list, { at: at(1, 9, 0) })).toBe(0);
    expect(firstUnread(list, { at: at(1, 11, 0) })).toBe(-1);
    expect(firstUnread(list, { id: "gone" })).toBe(-1);
  });

  it("does not place the divider by time when older messages are not loaded", () => {
    const list = [msg("1", A, at(1, 10, 0)), msg("2", A, at(1, 10, 1))];
    expect(firstUnread(list, { at: at(1, 9, 0) }, undefined, true)).toBe(-1);
    expect(firstUnread(list, { at: at(1, 10, 0) }, undefined, true)).toBe(1);
    expect(firstUnread(list, { id: "1", at: at(1, 9, 0) }, undefined, true)).toBe(1);
  });

  it("reuses the rows built before for messages that show the same", () => {
    const list = [msg("1", A, at(1, 10, 0)), msg("2", A, at(1, 10, 1)), msg("3", B, at(1, 10, 2))];
    const rows = messageRows(list);
    const older = msg("0", A, at(1, 9, 59));
    const edited = { ...list[2]!, text: "edited" };
    const next = messageRows([older, list[0]!, list[1]!, edited], {}, rows);
    expect(shape(next)).toEqual(["day:2024-05-01", "+0", "1", "2", "+3"]);
    // "1" now continues older's group: a new row; "2" is as it was; "3" changed.
    expect(next[2]).not.toBe(rows[1]);
    expect(next[3]).toBe(rows[2]);
    expect(next[4]).not.toBe(rows[3]);
    expect(next).toEqual(messageRows([older, list[0]!, list[1]!, edited]));
  });

  it("never counts the local user's own messages as unread", () => {
    const list = [msg("1", B, at(1, 10, 0)), msg("2", A, at(1, 10, 1)), msg("3", B, at(1, 10, 2))];
    expect(firstUnread(list, { id: "1" }, A)).toBe(2);
    expect(firstUnread(list, { id: "2" }, B)).toBe(-1);
  });

  it("puts the divider after a day separator on the same message", () => {
    const list = [msg("1", A, at(1, 10, 0)), msg("2", A, at(2, 10, 0))];
    expect(shape(messageRows(list, { lastRead: { id: "1" } }))).toEqual([
      "day:2024-05-01",
      "+1",
      "day:2024-05-02",
      "unread",
      "+2",
    ]);
  });

  it("starts a group after time going backwards", () => {
    const rows = messageRows([msg("1", A, at(1, 10, 5)), msg("2", A, at(1, 10, 0))]);
    expect(shape(rows)).toEqual(["day:2024-05-01", "+1", "+2"]);
  });

  it("has no rows for no messages", () => {
    expect(messageRows([])).toEqual([]);
  });
});

describe("localDay", () => {
  it("formats the local date", () => {
    expect(localDay(new Date(2024, 0, 9, 23, 59))).toBe("2024-01-09");
    expect(localDay(new Date(2024, 11, 31, 0, 0))).toBe("2024-12-31");
  });
});
