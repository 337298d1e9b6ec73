import { describe, expect, it } from "vitest";
import { mentionToken, roleMentionToken } from "./markdown";
import { decodeMentions, encodeMentions, insertMention, matchMembers, maxSuggestions, mentionFields, mentionQuery, mentionsMe } from "./mentions";

const ALICE = "a".repeat(52);
const ALAN = "b".repeat(52);
const BOB = "c".repeat(52);
const members = [
  { user: BOB, name: "Bob" },
  { user: ALICE, name: "Alice Smith" },
  { user: ALAN, name: "Al" },
];

describe("mentionQuery", () => {
  it("finds the @letters that end at the caret", () => {
    expect(mentionQuery("hi @Al", 6)).toEqual({ start: 3, query: "Al" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("hi @Al there", 6)).toEqual({ start: 3, query: "Al" });
    expect(mentionQuery("(@bo", 4)).toEqual({ start: 1, query: "bo" });
  });

  it("is null when no mention is being typed", () => {
    expect(mentionQuery("hi Al", 5)).toBeNull();
    expect(mentionQuery("mail me@example", 15)).toBeNull();
    expect(mentionQuery("@Al there", 9)).toBeNull();
    expect(mentionQuery("", 0)).toBeNull();
  });
});

describe("matchMembers", () => {
  it("ranks names that start with the query before later words, then by name", () => {
    expect(matchMembers(members, "al").map((m) => m.name)).toEqual(["Al", "Alice Smith"]);
    expect(matchMembers(members, "sm").map((m) => m.name)).toEqual(["Alice Smith"]);
    expect(matchMembers(members, "").map((m) => m.name)).toEqual(["Al", "Alice Smith", "Bob"]);
    expect(matchMembers(members, "zed")).toEqual([]);
  });

  it("offers at most maxSuggestions", () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ user: String(i), name: `Member ${i}` }));
    expect(matchMembers(many, "m")).toHaveLength(maxSuggestions);
  });
});

describe("insertMention", () => {
  it("replaces the query with @Name and a space, the caret after them", () => {
    expect(insertMention("hi @Al", { start: 3, query: "Al" }, members[1]!)).toEqual({ text: "hi @Alice Smith ", caret: 16 });
    expect(insertMention("@b hello", { start: 0, query: "b" }, members[0]!)).toEqual({ text: "@Bob hello", caret: 5 });
  });
});

describe("encodeMentions and decodeMentions", () => {
  it("turns picked @Names into tokens, longer names first and whole names only", () => {
    const text = "@Alice Smith and @Al, not @Alfred or @Bob";
    expect(encodeMentions(text, members.slice(1))).toBe(`${mentionToken(ALICE)} and ${mentionToken(ALAN)}, not @Alfred or @Bob`);
    expect(encodeMentions("@Bob", [])).toBe("@Bob");
  });

  it("takes names as they are written, regular-expression characters included", () => {
    const odd = { user: BOB, name: "B.o+b (x)" };
    expect(encodeMentions("hi @B.o+b (x)!", [odd])).toBe(`hi ${mentionToken(BOB)}!`);
    expect(encodeMentions("hi @Bxo+b (x)", [odd])).toBe("hi @Bxo+b (x)");
  });

  it("round-trips a sent text for editing", () => {
    const sent = `${mentionToken(ALICE)} meet ${mentionToken(BOB)} and ${mentionToken("d".repeat(52))}`;
    const nameOf = (u: string) => members.find((m) => m.user === u)?.name;
    const draft = decodeMentions(sent, nameOf);
    expect(draft.text).toBe(`@Alice Smith meet @Bob and ${mentionToken("d".repeat(52))}`);
    expect(draft.picked).toEqual([
      { user: ALICE, name: "Alice Smith" },
      { user: BOB, name: "Bob" },
    ]);
    expect(encodeMentions(draft.text, draft.picked)).toBe(sent);
  });
});

describe("mentionFields", () => {
  it("lists the users and @everyone a text mentions, code left out", () => {
    expect(mentionFields(`${mentionToken(ALICE)} @everyone \`${mentionToken(BOB)}\``)).toEqual({ mentions: [ALICE], everyone: true });
    expect(mentionFields("plain `@everyone`")).toEqual({ mentions: [], everyone: false });
  });
});

const MODS = "bafyreimods";
const CREW = "bafyreicrew";
const roles = [
  { role: MODS, name: "Mods" },
  { role: CREW, name: "Mods Crew" },
];

describe("role mentions", () => {
  it("encodes picked @Roles as role tokens, beside member tokens, longer names first", () => {
    const text = "@Mods Crew and @Mods, ask @Bob";
    expect(encodeMentions(text, [...roles, members[0]!])).toBe(`${roleMentionToken(CREW)} and ${roleMentionToken(MODS)}, ask ${mentionToken(BOB)}`);
  });

  it("lets the first of two picks with one name win", () => {
    const sameName = { user: ALICE, name: "Mods" };
    expect(encodeMentions("@Mods", [sameName, roles[0]!])).toBe(mentionToken(ALICE));
    expect(encodeMentions("@Mods", [roles[0]!, sameName])).toBe(roleMentionToken(MODS));
  });

  it("decodes role tokens it knows as @Name, leaves unknown ones, and round-trips", () => {
    const sent = `${roleMentionToken(MODS)} see ${mentionToken(BOB)} and ${roleMentionToken("bafyreigone")}`;
    const nameOf = (u: string) => members.find((m) => m.user === u)?.name;
    const roleNameOf = (id: string) => roles.find((r) => r.role === id)?.name;
    const draft = decodeMentions(sent, nameOf, roleNameOf);
    expect(draft.text).toBe(`@Mods see @Bob and ${roleMentionToken("bafyreigone")}`);
    expect(draft.picked).toEqual([{ role: MODS, name: "Mods" }, { user: BOB, name: "Bob" }]);
    expect(encodeMentions(draft.text, draft.picked)).toBe(sent);
  });

  it("matches roles by name like members", () => {
    expect(matchMembers([...roles, ...members], "mo").map((m) => m.name)).toEqual(["Mods", "Mods Crew"]);
    expect(matchMembers(roles, "cr").map((m) => m.name)).toEqual(["Mods Crew"]);
  });
});

describe("mentionsMe", () => {
  const plain = { mentions: [], everyone: false, text: "hello" };
  it("is true for a mention of the user, @everyone, or a role they hold", () => {
    expect(mentionsMe({ ...plain, mentions: [ALICE] }, ALICE, [])).toBe(true);
    expect(mentionsMe({ ...plain, everyone: true }, ALICE, [])).toBe(true);
    expect(mentionsMe({ ...plain, text: `hey ${roleMentionToken(MODS)}` }, ALICE, [MODS])).toBe(true);
  });

  it("is false for others' mentions, roles the user lacks, and role tokens in code", () => {
    expect(mentionsMe(plain, ALICE, [MODS])).toBe(false);
    expect(mentionsMe({ ...plain, mentions: [BOB] }, ALICE, [])).toBe(false);
    expect(mentionsMe({ ...plain, text: `hey ${roleMentionToken(MODS)}` }, ALICE, [CREW])).toBe(false);
    expect(mentionsMe({ ...plain, text: `\`${roleMentionToken(MODS)}\`` }, ALICE, [MODS])).toBe(false);
  });
});
