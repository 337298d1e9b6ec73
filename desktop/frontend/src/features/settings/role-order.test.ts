import { describe, expect, it } from "vitest";
import type { Role } from "@/api/types";
import { byPosition } from "@/features/members/group";
import { moveRole, type PositionChange } from "./role-order";

const C = "c";
const role = (id: string, position: number): Role => ({ id, name: id, color: 0, permissions: [], position });
const roles = [role(C, 0), role("a", 3), role("b", 2), role("d", 1)];

const apply = (rs: Role[], changes: PositionChange[]) => rs.map((r) => ({ ...r, position: changes.find((c) => c.role === r.id)?.position ?? r.position }));
const order = (rs: Role[]) => byPosition(rs).map((r) => r.id);

describe("moveRole", () => {
  it("swaps positions with the neighbour", () => {
    expect(moveRole(roles, C, "b", "up")).toEqual([
      { role: "b", position: 3 },
      { role: "a", position: 2 },
    ]);
    expect(order(apply(roles, moveRole(roles, C, "b", "down")))).toEqual(["a", "d", "b", C]);
  });

  it("does nothing at either end, nor for @everyone", () => {
    expect(moveRole(roles, C, "a", "up")).toEqual([]);
    expect(moveRole(roles, C, "d", "down")).toEqual([]);
    expect(moveRole(roles, C, C, "up")).toEqual([]);
  });

  it("separates roles that share a position", () => {
    const tied = [role(C, 0), role("x", 2), role("y", 2)];
    expect(order(apply(tied, moveRole(tied, C, "y", "up")))).toEqual(["y", "x", C]);
    expect(order(apply(tied, moveRole(tied, C, "x", "down")))).toEqual(["y", "x", C]);
  });
});
