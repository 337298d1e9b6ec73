// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/api/client";
import type { Community, InvitePreview } from "@/api/types";
import { apiError, cleanupRendered, fakeNode, render } from "@/test/render";
import { JoinCommunityDialog } from "./community-dialogs";
import { isInviteLink, joinError, refusesJoin } from "./join-errors";

afterEach(cleanupRendered);

const link = "ancore://invite/AgAAAA";
const garden: InvitePreview = { id: "bafigarden", name: "Garden", icon: btoa("icon"), members: 3, member: false };
const community = { id: "bafigarden", name: "Garden" } as Community;
const err = (status: number, code: ApiError["code"], message: string = code) => new ApiError(status, code, message);

describe("joinError", () => {
  it("says each reason a member gives in plain words", () => {
    expect(joinError(err(410, "invite_expired"), "link")).toBe("This invite has expired. Ask a member for a new invite.");
    expect(joinError(err(410, "invite_revoked"), "link")).toMatch(/^This invite was revoked\./);
    expect(joinError(err(410, "invite_used_up"), "code")).toMatch(/used as many times as it allows/);
    expect(joinError(err(403, "banned"), "link")).toBe("You are banned from this community.");
    expect(joinError(err(410, "dissolved"), "link")).toMatch(/owner deleted it/);
    expect(joinError(err(502, "community_unreachable", "cannot join: dial backoff"), "link")).toMatch(/^None of the community's members could be reached/);
    expect(joinError(err(422, "invalid_invite"), "code")).toMatch(/^That is not an invite/);
    expect(joinError(err(409, "not_ready"), "link")).toMatch(/still starting/);
  });

  it("tells an unknown code from an unknown invite", () => {
    expect(joinError(err(404, "invite_unknown"), "code")).toMatch(/relay knows no such invite code/);
    expect(joinError(err(404, "not_found"), "code")).toMatch(/relay knows no such invite code/);
    expect(joinError(err(404, "invite_unknown"), "link")).toMatch(/whole link/);
  });

  it("keeps the node's words where no sentence of ours fits", () => {
    expect(joinError(err(409, "join_refused", "cannot join: x refused: admit needs create-invites"), "link")).toMatch(/admit needs create-invites/);
    expect(joinError(err(409, "no_relay"), "code")).toMatch(/Settings → Relay/);
    expect(joinError(new TypeError("boom"), "link")).toBe("boom");
  });

  it("knows which refusals settle a preview", () => {
    expect(refusesJoin(err(410, "invite_expired"))).toBe(true);
    expect(refusesJoin(err(403, "banned"))).toBe(true);
    // An unreachable member (or an older one that shows nothing) may still admit.
    expect(refusesJoin(err(502, "community_unreachable"))).toBe(false);
    expect(refusesJoin(err(409, "join_refused"))).toBe(false);
    expect(isInviteLink("  ANCORE://invite/x")).toBe(true);
    expect(isInviteLink("ABCDE-FGHIJ")).toBe(false);
  });
});

describe("JoinCommunityDialog", () => {
  it("shows the community a link leads to, then joins it", async () => {
    const node = fakeNode({ "POST /invites/preview": [200, garden], "POST /communities/join": [200, community] });
    const onDone = vi.fn();
    const ui = await render(node, <JoinCommunityDialog open onOpenChange={vi.fn()} onDone={onDone} />);
    await ui.fill("join-link", link);
    await ui.settle();
    expect(ui.$("invite-preview-name")?.textContent).toBe("Garden");
    expect(ui.$("invite-preview-members")?.textContent).toBe("3 members");
    expect(ui.$("invite-preview-icon")?.getAttribute("src")).toBe(`data:image/png;base64,${btoa("icon")}`);
    expect(node.calls).toContain(`POST /invites/preview {"invite":"${link}"}`);
    await ui.click("join-submit");
    await ui.settle();
    expect(node.calls).toContain(`POST /communities/join {"invite":"${link}"}`);
    expect(onDone).toHaveBeenCalledWith("bafigarden");
  });

  it("says an expired invite has expired before anyone tries to join", async () => {
    const node = fakeNode({ "POST /invites/preview": [410, apiError("invite_expired", "cannot join: x refused: unauthorized op: invite expired")] });
    const ui = await render(node, <JoinCommunityDialog open onOpenChange={vi.fn()} onDone={vi.fn()} />);
    await ui.fill("join-link", link);
    await ui.settle();
    expect(ui.$("invite-preview-error")?.textContent).toBe("This invite has expired. Ask a member for a new invite.");
    expect(ui.$("invite-preview")).toBeNull();
    expect((ui.$("join-submit") as HTMLButtonElement).disabled).toBe(true);
  });

  it("still offers to join when no member shows the community, and says why joining failed", async () => {
    const node = fakeNode({
      "POST /invites/preview": [502, apiError("community_unreachable")],
      "POST /communities/join": [403, apiError("banned", "cannot join: x refused: unauthorized op: user is banned")],
    });
    const ui = await render(node, <JoinCommunityDialog open onOpenChange={vi.fn()} onDone={vi.fn()} />);
    await ui.fill("join-link", link);
    await ui.settle();
    expect(ui.$("invite-preview-error")?.textContent).toMatch(/could be reached/);
    await ui.click("join-submit");
    await ui.settle();
    expect(ui.$("join-error")?.textContent).toBe("You are banned from this community.");
  });

  it("joins by a relay's code without a preview", async () => {
    const node = fakeNode({ "POST /communities/join": [404, apiError("invite_unknown")] });
    const ui = await render(node, <JoinCommunityDialog open onOpenChange={vi.fn()} onDone={vi.fn()} />);
    await ui.fill("join-link", "ABCDE-FGHIJ");
    await ui.click("join-submit");
    await ui.settle();
    expect(node.calls.some((c) => c.startsWith("POST /invites/preview"))).toBe(false);
    expect(ui.$("join-error")?.textContent).toMatch(/relay knows no such invite code/);
  });
});
