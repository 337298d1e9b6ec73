import { describe, expect, it } from "vitest";
import type { Channel } from "@/api/types";
import { normalizeChannelName } from "./names";
import { reorderChannels } from "./order";

describe("normalizeChannelName", () => {
  it.each([
    ["Off Topic", "off-topic"],
    ["  Off   Topic!!  ", "off-topic"],
    ["snake_case name", "snake-case-name"],
    ["--a--b--", "a-b"],
    ["Café Talk", "café-talk"],
    ["日本語 チャンネル", "日本語-チャンネル"],
    ["🎮 Games", "🎮-games"],
    ["!!!", ""],
  ])("text: %j → %j", (typed, want) => {
    expect(normalizeChannelName(typed, "text")).toBe(want);
  });

  it("keeps a voice channel's name as typed, trimmed", () => {
    expect(normalizeChannelName("  Lounge   Room ", "voice")).toBe("Lounge Room");
  });

  it("cuts at 100 characters", () => {
    expect(normalizeChannelName("a".repeat(150), "text")).toHaveLength(100);
  });
});

const ch = (id: string, position: number): Channel => ({ id, community: "c", name: id, topic: "", type: "text", position });

describe("reorderChannels", () => {
  const list = [ch("a", 0), ch("b", 1), ch("c", 2), ch("d", 3)];

  it("moves down and sends only the changed positions", () => {
    expect(reorderChannels(list, "a", "c")).toEqual([
      { id: "b", position: 0 },
      { id: "c", position: 1 },
      { id: "a", position: 2 },
    ]);
  });

  it("moves up", () => {
    expect(reorderChannels(list, "d", "b")).toEqual([
      { id: "d", position: 1 },
      { id: "b", position: 2 },
      { id: "c", position: 3 },
    ]);
  });

  it("renumbers positions that had gaps", () => {
    expect(reorderChannels([ch("a", 5), ch("b", 9)], "b", "a")).toEqual([
      { id: "b", position: 0 },
      { id: "a", position: 1 },
    ]);
  });

  it("does nothing for a drop in place or an unknown channel", () => {
    expect(reorderChannels(list, "b", "b")).toEqual([]);
    expect(reorderChannels(list, "x", "b")).toEqual([]);
  });
});
