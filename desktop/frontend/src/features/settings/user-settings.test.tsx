// @vitest-environment jsdom
import { act } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { Me } from "@/api/types";
import { cleanupRendered, fakeNode, render, SELF } from "@/test/render";
import { savedTheme } from "./theme";
import { UserSettings } from "./user-settings";

afterEach(cleanupRendered);

const me: Me = { user: SELF, device: "d".repeat(52), name: "Alice", status: "online", status_text: "" };

async function open(node: ReturnType<typeof fakeNode>) {
  const ui = await render(
    node,
    <UserSettings me={me} open onOpenChange={() => undefined} />,
  );
  await ui.settle();
  const tab = async (id: string) => {
    await act(async () => void ui.$(id)?.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, button: 0 })));
    await ui.settle();
  };
  return { ...ui, tab };
}

describe("UserSettings", () => {
  it("is the dialog named Settings, on the profile", async () => {
    const ui = await open(fakeNode({}));
    const dialog = document.querySelector('[role="dialog"]');
    const title = dialog?.getAttribute("aria-labelledby");
    expect(title && document.getElementById(title)?.textContent).toBe("Settings");
    expect(ui.$("user-settings-profile")?.getAttribute("aria-selected")).toBe("true");
  });

  it("saves the display name", async () => {
    const node = fakeNode({ "PATCH /me": [200, { ...me, name: "Alicia" }] });
    const ui = await open(node);
    expect((ui.$("profile-save") as HTMLButtonElement).disabled).toBe(true);
    await ui.fill("profile-name", "Alicia");
    await ui.click("profile-save");
    await ui.settle();
    expect(node.calls).toContain('PATCH /me {"name":"Alicia","status":"online","status_text":""}');
  });

  it("sets and clears the custom status text", async () => {
    const node = fakeNode({ "PATCH /me": [200, { ...me, status_text: "Out for lunch" }] });
    const ui = await open(node);
    await ui.fill("profile-status-text", "  Out for lunch ");
    await ui.click("profile-save");
    await ui.settle();
    expect(node.calls).toContain('PATCH /me {"name":"Alice","status":"online","status_text":"Out for lunch"}');
  });

  it("keeps a long status whole, says it is too long and does not save it", async () => {
    const node = fakeNode({ "GET /limits": [200, { name: 100, status_text: 128 }], "PATCH /me": [200, me] });
    const ui = await open(node);
    const field = ui.$("profile-status-text") as HTMLInputElement;
    expect(field.hasAttribute("maxlength")).toBe(false);
    await ui.fill("profile-status-text", "s".repeat(130));
    expect(field.value).toHaveLength(130);
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(ui.$("field-refused")?.textContent).toBe("Too long: 2 characters over the limit of 128.");
    expect((ui.$("profile-save") as HTMLButtonElement).disabled).toBe(true);
    await ui.click("profile-save");
    expect(node.calls.filter((c) => c.startsWith("PATCH"))).toEqual([]);
  });

  it("applies a theme as soon as it is picked", async () => {
    const ui = await open(fakeNode({}));
    await ui.tab("user-settings-appearance");
    await ui.click("theme-dark");
    expect(document.documentElement.classList.contains("dark")).toBe(true);
    expect(savedTheme()).toBe("dark");
    expect(ui.$("theme-dark")?.getAttribute("aria-checked")).toBe("true");
    await ui.click("theme-light");
    expect(document.documentElement.classList.contains("dark")).toBe(false);
    expect(ui.$("theme-light")?.getAttribute("aria-checked")).toBe("true");
  });

  it("has the relay's page", async () => {
    const ui = await open(fakeNode({}));
    await ui.tab("user-settings-relay");
    expect(ui.$("relay-unsupported")).not.toBeNull();
  });
});
