import { describe, expect, it } from "vitest";
import { iconProblem, maxIconBytes } from "./icon-picker";

describe("iconProblem", () => {
  it("takes PNG and JPEG of at most 16 KiB", () => {
    expect(iconProblem({ type: "image/png", size: maxIconBytes })).toBeNull();
    expect(iconProblem({ type: "image/jpeg", size: 1 })).toBeNull();
    expect(iconProblem({ type: "image/png", size: maxIconBytes + 1 })).toMatch(/at most 16 KB/);
    expect(iconProblem({ type: "image/gif", size: 10 })).toMatch(/PNG or JPEG/);
  });
});
