import { describe, expect, it } from "vitest";
import { contrast, readableRoleColor, roleHex } from "./role-color";

const rgb = (css: string) => css.match(/\d+/g)!.map(Number) as [number, number, number];

describe("role colours", () => {
  it("writes 0xRRGGBB as a hex colour", () => {
    expect(roleHex(0x1abc9c)).toBe("#1abc9c");
    expect(roleHex(0x0000ff)).toBe("#0000ff");
  });

  it("keeps names readable (AA) on both themes' surfaces, and no colour for 0", () => {
    expect(readableRoleColor(0, "light")).toBeUndefined();
    for (const color of [0x1abc9c, 0xf1c40f, 0x3498db, 0x95a5a6, 0x000001, 0xffffff]) {
      expect(contrast(rgb(readableRoleColor(color, "light")!), [228, 228, 231])).toBeGreaterThanOrEqual(4.5);
      expect(contrast(rgb(readableRoleColor(color, "dark")!), [66, 70, 77])).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("leaves a colour that is already readable as it is", () => {
    expect(readableRoleColor(0x7a0000, "light")).toBe("rgb(122 0 0)");
  });
});
