import { describe, expect, it } from "vitest";
import { maxPictureBytes, pictureProblem } from "./picture-file";

describe("pictureProblem", () => {
  it("takes PNG, JPEG, GIF and WebP up to the node's limit", () => {
    for (const type of ["image/png", "image/jpeg", "image/gif", "image/webp"]) {
      expect(pictureProblem({ type, size: maxPictureBytes })).toBeNull();
    }
    expect(pictureProblem({ type: "image/jpeg", size: 3_000_000 })).toBeNull();
    expect(pictureProblem({ type: "image/png", size: maxPictureBytes + 1 })).toMatch(/at most 10 MB/);
    expect(pictureProblem({ type: "image/png", size: 2 * 1024 * 1024 }, 1024 * 1024)).toMatch(/2.0 MB; pictures can be at most 1 MB/);
    expect(pictureProblem({ type: "image/svg+xml", size: 10 })).toMatch(/PNG, JPEG, GIF or WebP/);
    expect(pictureProblem({ type: "", size: 10 })).toMatch(/PNG, JPEG, GIF or WebP/);
  });
});
