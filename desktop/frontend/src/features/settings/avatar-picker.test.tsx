// @vitest-environment jsdom
import { act } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { useMe } from "@/api/queries";
import type { Me } from "@/api/types";
import { apiError, cleanupRendered, fakeNode, Picture, render, SELF } from "@/test/render";
import { AvatarPicker } from "./avatar-picker";

afterEach(cleanupRendered);

const me: Me = { user: SELF, device: "d".repeat(52), name: "Alice", status: "online", status_text: "" };
const saved = new Picture(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
const savedURL = "data:image/png;base64,iVBORwECAw==";

// The picker as the profile tab shows it: for the local user as the node
// last answered.
function Picker() {
  const m = useMe().data;
  return m ? <AvatarPicker me={m} name={m.name} /> : null;
}

async function open(node: ReturnType<typeof fakeNode>) {
  const ui = await render(node, <Picker />);
  await ui.settle();
  const choose = async (file: File) => {
    const input = ui.$("avatar-file") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    await act(async () => void input.dispatchEvent(new Event("change", { bubbles: true })));
  };
  // Waits for what to hold, a turn of the event loop at a time (the file
  // reads and fetches resolve in turns, not in time).
  const until = async (what: () => unknown) => {
    for (let turn = 0; turn < 500 && !what(); turn++) await ui.settle();
    expect(what()).toBeTruthy();
  };
  await until(() => ui.$("avatar-file"));
  return { ...ui, choose, until };
}

const photo = (size: number, type = "image/jpeg") => new File([new Uint8Array(size).fill(7)], "photo.jpg", { type });

describe("AvatarPicker", () => {
  it("previews a large photo, saves it and shows what the node made of it", async () => {
    const node = fakeNode({
      "GET /me": [200, me],
      "PUT /me/avatar": [200, { ...me, avatar: "0123456789abcdef" }],
      "GET /me/avatar": [200, saved],
    });
    const ui = await open(node);
    expect(ui.$("avatar-preview")).toBeNull(); // the initials
    expect(ui.$("avatar-remove")).toBeNull();

    const big = photo(1536 * 1024);
    await ui.choose(big);
    await ui.until(() => ui.$("avatar-preview"));
    const preview = ui.$("avatar-preview") as HTMLImageElement;
    expect(preview.alt).toBe("Your new avatar");
    expect(preview.src.startsWith("data:image/jpeg;base64,")).toBe(true);

    await ui.click("avatar-save");
    await ui.until(() => (ui.$("avatar-preview") as HTMLImageElement | null)?.src === savedURL);
    const put = node.calls.find((c) => c.startsWith("PUT /me/avatar "));
    expect(put && JSON.parse(put.slice("PUT /me/avatar ".length)).image).toBe(preview.src.slice(preview.src.indexOf(",") + 1));
    expect((ui.$("avatar-preview") as HTMLImageElement).alt).toBe("Your avatar");
    expect(ui.$("avatar-remove")).not.toBeNull();
   }, 30_000); // jsdom reads a large file slowly

  it("removes the avatar, back to the initials", async () => {
    const node = fakeNode({
      "GET /me": [200, { ...me, avatar: "0123456789abcdef" }],
      "GET /me/avatar": [200, saved],
      "DELETE /me/avatar": [200, me],
    });
    const ui = await open(node);
    await ui.until(() => (ui.$("avatar-preview") as HTMLImageElement | null)?.src === savedURL);
    await ui.click("avatar-remove");
    await ui.until(() => ui.$("avatar-preview") === null);
    expect(node.calls).toContain("DELETE /me/avatar");
    expect(ui.$("avatar-remove")).toBeNull();
  });

  it("refuses what the node would refuse without sending it", async () => {
    const node = fakeNode({ "GET /me": [200, me] });
    const ui = await open(node);
    await ui.choose(photo(10 * 1024 * 1024 + 1));
    await ui.until(() => document.querySelector('[role="alert"]'));
    expect(document.querySelector('[role="alert"]')?.textContent).toMatch(/at most 10 MB/);
    await ui.choose(photo(100, "image/svg+xml"));
    await ui.until(() => document.querySelector('[role="alert"]')?.textContent?.includes("PNG, JPEG, GIF or WebP"));
    expect(ui.$("avatar-preview")).toBeNull();
    expect(node.calls.filter((c) => !c.startsWith("GET "))).toEqual([]);
  });

  it("says why the node refused a picture, and keeps the old one", async () => {
    const node = fakeNode({
      "GET /me": [200, me],
      "PUT /me/avatar": [422, apiError("not_image", "not a PNG, JPEG, GIF or WebP image")],
    });
    const ui = await open(node);
    await ui.choose(photo(2048, "image/png"));
    await ui.until(() => ui.$("avatar-save"));
    await ui.click("avatar-save");
    await ui.until(() => document.querySelector('[role="alert"]'));
    expect(document.querySelector('[role="alert"]')?.textContent).toMatch(/not a PNG/);
    expect(ui.$("avatar-save")).not.toBeNull(); // the picked one stays, to retry or cancel
  });
});
