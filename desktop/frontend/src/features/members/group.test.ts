import { describe, expect, it } from "vitest";
import type { Member, Role } from "@/api/types";
import { byPosition, groupMembers, memberLookup } from "./group";

const C = "community";
const role = (id: string, position: number, color = 0): Role => ({ id, name: id, color, permissions: [], position });
const member = (name: string, over: Partial<Member> = {}): Member => ({
  user: name.toLowerCase().padEnd(52, "x"),
  name,
  state: "joined",
  roles: [],
  owner: false,
  joined_at: "2024-01-01T00:00:00Z",
  status: "online",
  status_text: "",
  ...over,
});

const roles = [role(C, 0), role("mods", 5, 0x3498db), role("admins", 9, 0xe91e63), role("empty", 7), role("vip", 2, 0xf1c40f)];

describe("groupMembers", () => {
  it("puts online members under their highest role, highest role first, then Online, then Offline", () => {
    const members = [
      member("Zed", { roles: ["mods"] }),
      member("amy", { roles: ["mods", "admins"] }),
      member("Bob", { roles: ["vip"] }),
      member("Cat"),
      member("Dan", { roles: ["admins"], status: "offline" }),
      member("Eve", { status: "idle" }),
      member("Fay", { status: "dnd", roles: ["mods"] }),
    ];
    const sections = groupMembers(members, roles, {}, C);
    expect(sections.map((s) => [s.title, s.rows.map((r) => r.member.name)])).toEqual([
      ["admins", ["amy"]],
      ["mods", ["Fay", "Zed"]],
      ["vip", ["Bob"]],
      ["Online", ["Cat", "Eve"]],
      ["Offline", ["Dan"]],
    ]);
    expect(sections[0]?.role?.id).toBe("admins");
    expect(sections.find((s) => s.key === "offline")?.role).toBeUndefined();
  });

  it("lets live presence override the fetched status", () => {
    const bob = member("Bob", { roles: ["vip"], status: "offline" });
    const cat = member("Cat", { status: "online" });
    const sections = groupMembers([bob, cat], roles, { [bob.user]: "idle", [cat.user]: "offline" }, C);
    expect(sections.map((s) => [s.key, s.rows.map((r) => [r.member.name, r.status])])).toEqual([
      ["vip", [["Bob", "idle"]]],
      ["offline", [["Cat", "offline"]]],
    ]);
  });

  it("leaves out members who left, were kicked or banned, and sections without members", () => {
    const sections = groupMembers(
      [member("Ann", { state: "left" }), member("Ben", { state: "kicked", roles: ["mods"] }), member("Cy", { state: "banned" }), member("Di")],
      roles,
      {},
      C,
    );
    expect(sections.map((s) => s.key)).toEqual(["online"]);
  });

  it("orders roles by position, highest first, ties by ID", () => {
    expect(byPosition([role("b", 1), role("a", 1), role("c", 3), role(C, 0)]).map((r) => r.id)).toEqual(["c", "a", "b", C]);
  });
});

describe("memberLookup", () => {
  const amy = member("Amy", { roles: ["empty", "mods", "vip"] });
  const cat = member("Cat", { roles: ["empty"] });
  const lookup = memberLookup([amy, cat], roles);

  it("finds names and members by key", () => {
    expect(lookup.nameOf(amy.user)).toBe("Amy");
    expect(lookup.memberOf(cat.user)).toBe(cat);
    expect(lookup.nameOf("nobody")).toBeUndefined();
  });

  it("takes the colour of the highest coloured role, 0 for none", () => {
    expect(lookup.roleColorOf(amy.user)).toBe(0x3498db);
    expect(lookup.roleColorOf(cat.user)).toBe(0);
    expect(lookup.roleColorOf("nobody")).toBe(0);
  });

  it("finds roles by ID for mentions", () => {
    expect(lookup.roleOf("admins")).toEqual({ name: "admins", color: 0xe91e63 });
    expect(lookup.roleOf("gone")).toBeUndefined();
  });
});
