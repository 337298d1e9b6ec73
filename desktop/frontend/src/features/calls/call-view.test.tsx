// @vitest-environment jsdom
import { act } from "react";
import { toast } from "sonner";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keys } from "@/api/queries";
import type { Call, Member } from "@/api/types";
import { apiError, cleanupRendered, fakeNode, render, SELF } from "@/test/render";
import { withCall } from "./calls";
import { CallButton } from "./call-button";
import { CallView } from "./call-view";

afterEach(cleanupRendered);

const BEA = "b".repeat(52);
const bea: Member = { user: BEA, name: "Bea", state: "joined", roles: [], owner: false, joined_at: "2026-12-01T00:00:00Z", status: "online", status_text: "" };
const incoming: Call = { id: "c".repeat(32), community: "c1", user: BEA, direction: "incoming", state: "ringing", started: "2026-12-08T00:00:00Z" };

describe("CallView", () => {
  it("rings with the caller's name and accepts, then shows the call and ends it", async () => {
    const node = fakeNode({
      "GET /calls": [200, [incoming]],
      "GET /communities/c1/members": [200, [bea]],
      [`POST /calls/${incoming.id}/accept`]: [200, { ...incoming, state: "connecting" }],
      [`POST /calls/${incoming.id}/end`]: [200, { ...incoming, state: "ended", reason: "hangup" }],
    });
    const ui = await render(node, <CallView />);
    await ui.settle();
    await ui.settle(); // the calls, then the caller's community's members
    expect(ui.$("incoming-call")?.textContent).toContain("Bea");
    await ui.click("call-accept");
    expect(node.calls).toContain(`POST /calls/${incoming.id}/accept`);
    // The node's call:state events move the call on.
    await act(async () => ui.queryClient.setQueryData<Call[]>(keys.calls, (c) => withCall(c, { ...incoming, state: "active" })));
    await ui.settle();
    expect(ui.$("incoming-call")).toBeNull();
    expect(ui.$("call-state")?.textContent).toBe("In a call with Bea");
    await ui.click("call-end");
    expect(node.calls).toContain(`POST /calls/${incoming.id}/end`);
    await act(async () => ui.queryClient.setQueryData<Call[]>(keys.calls, (c) => withCall(c, { ...incoming, state: "ended", reason: "hangup" })));
    await ui.settle();
    expect(ui.$("call-bar")).toBeNull();
  });

  it("declines", async () => {
    const node = fakeNode({
      "GET /calls": [200, [incoming]],
      "GET /communities/c1/members": [200, [bea]],
      [`POST /calls/${incoming.id}/reject`]: [200, { ...incoming, state: "rejected", reason: "declined" }],
    });
    const ui = await render(node, <CallView />);
    await ui.settle();
    await ui.click("call-decline");
    expect(node.calls).toContain(`POST /calls/${incoming.id}/reject`);
  });
});

describe("CallButton", () => {
  it("places a call that then rings in the bar", async () => {
    const outgoing: Call = { ...incoming, direction: "outgoing" };
    const node = fakeNode({ "GET /calls": [200, []], "GET /communities/c1/members": [200, [bea]], "POST /calls": [201, outgoing] });
    const community = { id: "c1" } as Parameters<typeof CallButton>[0]["community"];
    const ui = await render(
      node,
      <>
        <CallButton community={community} user={BEA} />
        <CallView />
      </>,
    );
    await ui.settle();
    await ui.click("profile-call");
    expect(node.calls).toContain(`POST /calls ${JSON.stringify({ community: "c1", user: BEA })}`);
    await ui.settle();
    expect(ui.$("call-state")?.textContent).toBe("Calling Bea…");
    expect((ui.$("profile-call") as HTMLButtonElement).disabled).toBe(true);
  });

  it("says when this build cannot call, and rings nobody", async () => {
    const node = fakeNode({ "GET /calls": [200, []], "POST /calls": [503, apiError("calls_unavailable")] });
    const community = { id: "c1" } as Parameters<typeof CallButton>[0]["community"];
    const told = vi.spyOn(toast, "error");
    const ui = await render(
      node,
      <>
        <CallButton community={community} user={BEA} />
        <CallView />
      </>,
      { self: SELF },
    );
    await ui.settle();
    await ui.click("profile-call");
    await ui.settle();
    expect(told).toHaveBeenCalledWith("Calls are not available in this build of Ancore.");
    expect(ui.$("call-bar")).toBeNull();
    told.mockRestore();
  });
});
