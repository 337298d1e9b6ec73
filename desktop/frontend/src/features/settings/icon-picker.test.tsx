// @vitest-environment jsdom
import { act } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { useCommunities } from "@/api/queries";
import type { Community } from "@/api/types";
import { apiError, cleanupRendered, fakeNode, render, SELF } from "@/test/render";
import { IconPicker } from "./icon-picker";

afterEach(cleanupRendered);

const community: Community = {
  id: "c1",
  name: "Club",
  owner: SELF,
  channels: [],
  roles: [],
  my_permissions: ["manage-community"],
  my_roles: [],
  dissolved: false,
  member: true,
  carried: false,
};
const shrunk = "/9j/4AAQSkZJRg=="; // what the node made of the photo, in base64

// The picker as the overview tab shows it: for the community as the node
// last answered.
function Picker() {
  const c = useCommunities().data?.[0];
  return c ? <IconPicker community={c} /> : null;
}

async function open(node: ReturnType<typeof fakeNode>) {
  const ui = await render(node, <Picker />);
  const until = async (what: () => unknown) => {
    for (let turn = 0; turn < 500 && !what(); turn++) await ui.settle();
    expect(what()).toBeTruthy();
  };
  await until(() => ui.$("settings-icon-file"));
  const choose = async (file: File) => {
    const input = ui.$("settings-icon-file") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    await act(async () => void input.dispatchEvent(new Event("change", { bubbles: true })));
  };
  return { ...ui, choose, until };
}

const photo = (size: number, type = "image/jpeg") => new File([new Uint8Array(size).fill(9)], "photo.jpg", { type });
const previewSrc = (ui: { $: (id: string) => HTMLElement | null }) => (ui.$("settings-icon-preview") as HTMLImageElement | null)?.src;

describe("IconPicker", () => {
  it("takes a large photo and shows the icon the node made of it", async () => {
    const node = fakeNode({
      "GET /communities": [[200, [community]], [200, [{ ...community, icon: shrunk }]]],
      "PATCH /communities/c1": [200, { ...community, icon: shrunk }],
    });
    const ui = await open(node);
    expect(ui.$("settings-icon-preview")).toBeNull();
    await ui.choose(photo(1536 * 1024));
    await ui.until(() => previewSrc(ui)?.startsWith("data:image/jpeg;base64,"));
    await ui.click("settings-icon-save");
    await ui.until(() => previewSrc(ui) === `data:image/png;base64,${shrunk}`);
    const patch = node.calls.find((c) => c.startsWith("PATCH /communities/c1 "));
    expect(patch && JSON.parse(patch.slice("PATCH /communities/c1 ".length)).icon.length).toBe(Math.ceil((1536 * 1024) / 3) * 4);
    expect(ui.$("settings-icon-remove")).not.toBeNull();
   }, 30_000); // jsdom reads a large file slowly

  it("refuses what the node would refuse, and shows why the node refused", async () => {
    const node = fakeNode({
      "GET /communities": [200, [community]],
      "PATCH /communities/c1": [413, apiError("image_too_large", "image too large: 9000×9000 pixels, at most 50 megapixels")],
    });
    const ui = await open(node);
    await ui.choose(photo(11 * 1024 * 1024));
    await ui.until(() => document.querySelector('[role="alert"]')?.textContent?.includes("at most 10 MB"));
    expect(node.calls.some((c) => c.startsWith("PATCH"))).toBe(false);
    await ui.choose(photo(1000, "image/webp"));
    await ui.until(() => ui.$("settings-icon-save"));
    await ui.click("settings-icon-save");
    await ui.until(() => document.querySelector('[role="alert"]')?.textContent?.includes("50 megapixels"));
  });
});
