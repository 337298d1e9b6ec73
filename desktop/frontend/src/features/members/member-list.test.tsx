// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import type { Community, Member } from "@/api/types";
import { initialChatState } from "@/lib/reducer";
import { cleanupRendered, fakeNode, Picture, render, SELF } from "@/test/render";
import { MemberList } from "./member-list";

afterEach(cleanupRendered);

const BOB = "b".repeat(52);
const CY = "c".repeat(52);
const community: Community = {
  id: "c1",
  name: "Club",
  owner: SELF,
  channels: [],
  roles: [
    { id: "mods", name: "Mods", color: 0x3498db, permissions: [], position: 3 },
    { id: "c1", name: "@everyone", color: 0, permissions: [], position: 0 },
  ],
  my_permissions: [],
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
  joined_at: "2024-03-05T00:00:00Z",
  status: "online",
  status_text: "",
  ...over,
});

describe("MemberList", () => {
  it("fetches the avatars members have, once each, and keeps the initials for the others", async () => {
    const node = fakeNode({
      "GET /communities/c1/members": [200, [member(BOB, "Bob", { avatar: "0123456789abcdef" }), member(CY, "Cy")]],
      [`GET /communities/c1/members/${BOB}/avatar`]: [200, new Picture(new Uint8Array([0xff, 0xd8, 0xff, 1]), "image/jpeg")],
    });
    const ui = await render(node, <MemberList community={community} />);
    for (let turn = 0; turn < 50 && !node.calls.some((c) => c.endsWith("/avatar")); turn++) await ui.settle();
    await ui.settle();
    expect(node.calls.filter((c) => c.endsWith("/avatar"))).toEqual([`GET /communities/c1/members/${BOB}/avatar`]);
    // Until the picture is shown (jsdom never loads images) the initials are.
    expect(ui.$$("member").map((m) => m.textContent)).toEqual(["BBob", "CCy"]);
  });

  it("groups by role, then online, then offline, with live presence and the owner's crown", async () => {
    const node = fakeNode({
      "GET /communities/c1/members": [200, [member(SELF, "Alice", { owner: true }), member(BOB, "Bob", { roles: ["mods"], status: "offline" }), member(CY, "Cy"), member("d".repeat(52), "Di", { state: "left" })]],
    });
    const chat = { ...initialChatState, presence: { c1: { [BOB]: "idle" as const, [CY]: "offline" as const } } };
    const ui = await render(
      node,
      <MemberList community={community} />,
      { chat },
    );
    await ui.settle();
    expect([...ui.container.querySelectorAll("h3")].map((h) => h.textContent)).toEqual(["Mods — 1", "Online — 1", "Offline — 1"]);
    // Each row reads the avatar's initials, then the name.
    expect(ui.$$("member").map((m) => [m.textContent, m.dataset.status])).toEqual([
      ["BBob", "idle"],
      ["AAlice", "online"],
      ["CCy", "offline"],
    ]);
    expect(ui.$$("member")[1]?.querySelector('[aria-label="Owner"]')).not.toBeNull();
  });

  it("opens a member's profile: roles, since when, the key", async () => {
    const node = fakeNode({ "GET /communities/c1/members": [200, [member(BOB, "Bob", { roles: ["mods"], status_text: "Out for lunch" })]] });
    const ui = await render(
      node,
      <MemberList community={community} />,
    );
    await ui.settle();
    await ui.click(ui.$$("member")[0] as HTMLElement);
    const profile = ui.$("profile");
    expect(profile?.textContent).toContain("Bob");
    expect(profile?.textContent).toContain("Mods");
    expect(ui.$("profile-status-text")?.textContent).toBe("Out for lunch");
    expect(ui.$$("member")[0]?.textContent).toContain("Out for lunch");
    expect(profile?.textContent).toContain("2024");
    expect(profile?.textContent).toContain(BOB);
    expect(profile?.querySelector('[aria-label="Copy key"]')).not.toBeNull();
  });
});
