// @vitest-environment jsdom
import { act } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { Community, Invite, Member, Permission } from "@/api/types";
import { cleanupRendered, fakeNode, render, SELF, type Answer } from "@/test/render";
import { CommunitySettings, settingsTabs } from "./community-settings";

afterEach(cleanupRendered);

const BOB = "b".repeat(52);
const everyPermission: Permission[] = ["manage-community", "manage-channels", "manage-roles", "kick", "ban", "create-invites", "send-messages", "manage-messages", "attach-files", "add-reactions", "connect", "speak", "video", "administrator"];
const community: Community = {
  id: "c1",
  name: "Club",
  owner: SELF,
  channels: [],
  roles: [{ id: "c1", name: "@everyone", color: 0, permissions: ["send-messages"], position: 0 }],
  my_permissions: everyPermission,
  my_roles: [],
  dissolved: false,
  member: true,
  carried: false,
};
const member = (user: string, name: string, over: Partial<Member> = {}): Member => ({
  user,
  name,
  state: "joined",
  roles: [],
  owner: false,
  joined_at: "2024-01-01T00:00:00Z",
  status: "online",
  status_text: "",
  ...over,
});
const members = [member(SELF, "Alice", { owner: true }), member(BOB, "Bob"), member("c".repeat(52), "Cy", { state: "banned" })];
const invite: Invite = { id: "i1", creator: SELF, expires_at: null, max_uses: 10, uses: 2, revoked: false };
const network = { peer_id: "p", addrs: [], peers: [], sync: [], relay: { url: null, connected: false, peer: null } };

function node(extra: Record<string, Answer | Answer[]> = {}) {
  return fakeNode({ "GET /communities/c1/members": [200, members], "GET /network": [200, network], ...extra });
}

async function open(n: ReturnType<typeof fakeNode>, c: Community = community) {
  const ui = await render(
    n,
    <CommunitySettings community={c} open onOpenChange={() => undefined} />,
  );
  await ui.settle();
  /** Radix tabs switch on mouse down, not on click. */
  const tab = async (id: string) => {
    const el = ui.$(id);
    if (!el) throw new Error(`no tab ${id}`);
    await act(async () => void el.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, button: 0 })));
    await ui.settle();
  };
  return { ...ui, tab };
}

describe("settingsTabs", () => {
  it("shows only the tabs the permissions allow", () => {
    expect(settingsTabs(everyPermission)).toEqual(["overview", "roles", "invites", "members", "bans"]);
    expect(settingsTabs(["send-messages"])).toEqual(["invites", "members"]);
    expect(settingsTabs(["manage-roles", "ban"])).toEqual(["roles", "invites", "members", "bans"]);
  });
});

describe("CommunitySettings", () => {
  it("opens on the overview, with the name and offline delivery for the owner", async () => {
    const ui = await open(node());
    expect(ui.$("settings-overview")?.getAttribute("aria-selected")).toBe("true");
    expect((ui.$("settings-name") as HTMLInputElement).value).toBe("Club");
    expect(ui.$("offline-delivery")).not.toBeNull();
    expect(ui.$("community-delete")).not.toBeNull();
  });

  it("saves the name", async () => {
    const n = node({ "PATCH /communities/c1": [200, { ...community, name: "Club 2" }] });
    const ui = await open(n);
    expect((ui.$("settings-name-save") as HTMLButtonElement).disabled).toBe(true);
    await ui.fill("settings-name", "Club 2");
    await ui.click("settings-name-save");
    await ui.settle();
    expect(n.calls).toContain('PATCH /communities/c1 {"name":"Club 2"}');
  });

  it("shows an invite in the list as soon as it is created", async () => {
    const n = node({
      "GET /communities/c1/invites": [[200, []], [200, [invite]]],
      "POST /communities/c1/invites": [201, { ...invite, link: "ancore://invite/abc", code: "K7Q2-MX" }],
    });
    const ui = await open(n);
    await ui.tab("settings-invites");
    expect(ui.$("invites-empty")).not.toBeNull();
    await ui.click("settings-invite-create");
    await ui.click("invite-create");
    await ui.settle();
    expect(n.calls).toContain('POST /communities/c1/invites {"ttl_seconds":86400,"max_uses":0}');
    expect((ui.$("invite-link") as HTMLInputElement).value).toBe("ancore://invite/abc");
    expect((ui.$("invite-code") as HTMLInputElement).value).toBe("K7Q2-MX");
    const rows = ui.$$("invite-row");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.textContent).toContain("Alice");
    expect(rows[0]?.textContent).toContain("2 / 10");
    expect(rows[0]?.textContent).toContain("never");
    expect(n.calls.filter((c) => c === "GET /communities/c1/invites")).toHaveLength(2);
  });

  it("revokes an invite only after a confirmation, and shows revoked ones as such", async () => {
    const n = node({
      "GET /communities/c1/invites": [[200, [invite]], [200, [{ ...invite, revoked: true }]]],
      "DELETE /communities/c1/invites/i1": [204],
    });
    const ui = await open(n);
    await ui.tab("settings-invites");
    await ui.click("invite-revoke");
    expect(n.calls.some((c) => c.startsWith("DELETE"))).toBe(false);
    await ui.click("invite-revoke-confirm");
    await ui.settle();
    expect(n.calls).toContain("DELETE /communities/c1/invites/i1");
    expect(ui.$("invite-row")?.dataset.state).toBe("revoked");
    expect(ui.$("invite-revoke")).toBeNull();
  });

  it("kicks a member only after a confirmation, and offers neither kick nor ban for the owner or oneself", async () => {
    const n = node({ [`POST /communities/c1/members/${BOB}/kick`]: [204] });
    const ui = await open(n);
    await ui.tab("settings-members");
    expect(ui.$$("settings-member").map((r) => r.textContent?.includes("Bob") || r.textContent?.includes("Alice"))).toEqual([true, true]);
    expect(ui.$$("member-kick")).toHaveLength(1);
    expect(ui.$$("member-ban")).toHaveLength(1);
    await ui.click("member-kick");
    expect(ui.$("member-kick-confirm")?.textContent).toBe("Kick");
    expect(n.calls.some((c) => c.includes("/kick"))).toBe(false);
    await ui.click("member-kick-confirm");
    await ui.settle();
    expect(n.calls).toContain(`POST /communities/c1/members/${BOB}/kick`);
  });

  it("cancelling the kick calls nothing", async () => {
    const n = node();
    const ui = await open(n);
    await ui.tab("settings-members");
    await ui.click("member-kick");
    const cancel = [...document.querySelectorAll("button")].find((b) => b.textContent === "Cancel");
    await ui.click(cancel as HTMLElement);
    expect(ui.$("member-kick-confirm")).toBeNull();
    expect(n.calls.some((c) => c.includes("/kick"))).toBe(false);
  });

  it("lists the banned and lifts a ban", async () => {
    const n = node({ [`DELETE /communities/c1/bans/${"c".repeat(52)}`]: [204] });
    const ui = await open(n);
    await ui.tab("settings-bans");
    expect(ui.$$("settings-ban").map((r) => r.textContent)).toEqual([expect.stringContaining("Cy")]);
    await ui.click("member-unban");
    await ui.settle();
    expect(n.calls).toContain(`DELETE /communities/c1/bans/${"c".repeat(52)}`);
  });

  it("deletes the community once its name is typed", async () => {
    const n = node({ "DELETE /communities/c1": [204] });
    const ui = await open(n);
    await ui.click("community-delete");
    const confirm = ui.$("community-delete-confirm") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    await ui.fill("community-delete-name", "club");
    expect(confirm.disabled).toBe(true);
    await ui.fill("community-delete-name", "Club");
    await ui.click("community-delete-confirm");
    await ui.settle();
    expect(n.calls).toContain("DELETE /communities/c1");
  });

  it("edits roles: permissions with labels, colour, order; @everyone keeps its name", async () => {
    const roles = [
      { id: "mods", name: "Mods", color: 0, permissions: ["kick" as const], position: 2 },
      { id: "vip", name: "VIP", color: 0xf1c40f, permissions: [], position: 1 },
      community.roles[0]!,
    ];
    const n = node({
      "PATCH /communities/c1/roles/mods": [200, roles[0]],
      "PATCH /communities/c1/roles/vip": [200, roles[1]],
      "GET /communities": [200, [{ ...community, roles }]],
    });
    const ui = await open(n, { ...community, roles });
    await ui.tab("settings-roles");
    expect(ui.$$("role-row").map((r) => r.textContent)).toEqual([expect.stringContaining("Mods"), expect.stringContaining("VIP"), expect.stringContaining("@everyone")]);
    expect(ui.$("role-editor")?.textContent).toContain("Manage messages");
    expect(ui.$("role-editor")?.textContent).toContain("Delete others' messages.");
    expect(ui.$("permission-kick")?.getAttribute("aria-checked")).toBe("true");
    await ui.click("permission-manage-messages");
    await ui.settle();
    expect(n.calls).toContain('PATCH /communities/c1/roles/mods {"permissions":["kick","manage-messages"]}');
    await ui.click("role-color-3498db");
    await ui.settle();
    expect(n.calls).toContain('PATCH /communities/c1/roles/mods {"color":3447003}');
    const up = document.querySelector('[aria-label="Move VIP up"]') as HTMLElement;
    await ui.click(up);
    await ui.settle();
    expect(n.calls).toContain('PATCH /communities/c1/roles/vip {"position":2}');
    expect(n.calls).toContain('PATCH /communities/c1/roles/mods {"position":1}');
    expect((document.querySelector('[aria-label="Move Mods up"]') as HTMLButtonElement).disabled).toBe(true);
    await ui.click(ui.$$("role-row")[2]?.querySelector("button") as HTMLElement);
    expect(ui.$("role-name")).toBeNull();
    expect(ui.$("role-delete")).toBeNull();
    expect(ui.$("permission-send-messages")?.getAttribute("aria-checked")).toBe("true");
  });

  it("hides what the user may not do", async () => {
    const ui = await open(node({ "GET /communities/c1/invites": [200, [{ ...invite, creator: BOB }]] }), { ...community, owner: BOB, my_permissions: ["send-messages"] });
    expect(ui.$("settings-overview")).toBeNull();
    expect(ui.$("settings-roles")).toBeNull();
    expect(ui.$("settings-bans")).toBeNull();
    expect(ui.$("settings-invites")?.getAttribute("aria-selected")).toBe("true");
    expect(ui.$("settings-invite-create")).toBeNull();
    expect(ui.$("invite-row")).not.toBeNull();
    expect(ui.$("invite-revoke")).toBeNull();
    await ui.tab("settings-members");
    expect(ui.$("member-kick")).toBeNull();
    expect(ui.$("member-roles")).toBeNull();
  });
});
