import { describe, expect, it } from "vitest";
import { emojiOf, indexShortcodes, loadShortcodes, matchShortcodes, shortcodeQuery } from "./shortcodes";

describe("shortcodes", () => {
  it("makes emoji from emojibase hexcodes, text-style ones with the emoji selector", () => {
    expect(emojiOf("1F44D")).toBe("👍");
    expect(emojiOf("1F468-200D-1F469-200D-1F467")).toBe("👨‍👩‍👧");
    expect(emojiOf("2600")).toBe("☀\uFE0F");
  });

  it("finds the :letters before the caret that start a word, two letters at least", () => {
    expect(shortcodeQuery("nice :thu", 9)).toEqual({ start: 5, query: "thu" });
    expect(shortcodeQuery(":+1", 3)).toEqual({ start: 0, query: "+1" });
    expect(shortcodeQuery("nice :t", 7)).toBeNull();
    expect(shortcodeQuery("at 12:30", 8)).toBeNull();
    expect(shortcodeQuery("a::bc", 5)).toBeNull();
  });

  it("matches by prefix first, one entry per emoji", () => {
    const index = indexShortcodes({ "1F44D": ["+1", "thumbsup"], "1F604": "smile", "1F638": "smile_cat" });
    expect(matchShortcodes(index, "smi").map((s) => s.code)).toEqual(["smile", "smile_cat"]);
    expect(matchShortcodes(index, "cat").map((s) => s.code)).toEqual(["smile_cat"]);
    expect(matchShortcodes(index, "thumbs").map((s) => s.emoji)).toEqual(["👍"]);
  });

  it("loads GitHub's shortcodes from emojibase-data", async () => {
    const index = await loadShortcodes();
    expect(index.byCode.get("thumbsup")).toBe("👍");
    expect(index.byCode.get("tada")).toBe("🎉");
    expect(matchShortcodes(index, "thumbsu")[0]?.emoji).toBe("👍");
  });
});
