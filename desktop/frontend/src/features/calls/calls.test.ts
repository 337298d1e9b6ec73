import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import type { Call } from "@/api/types";
import { callError, currentCall, outcome, stateText, withCall } from "./calls";

const call = (over: Partial<Call> = {}): Call => ({
  id: "a".repeat(32),
  community: "c1",
  user: "u".repeat(52),
  direction: "outgoing",
  state: "ringing",
  started: "2026-12-08T00:00:00Z",
  ...over,
});

describe("calls", () => {
  it("keeps one entry per call, the current one first, then the newest", () => {
    const old = call({ id: "1".repeat(32), state: "ended", reason: "hangup", started: "2026-12-07T10:00:00Z" });
    const newer = call({ id: "2".repeat(32), state: "missed", direction: "incoming", started: "2026-12-07T11:00:00Z" });
    const ringing = call({ id: "3".repeat(32), started: "2026-12-07T09:00:00Z" });
    let calls = withCall(withCall(withCall(undefined, old), newer), ringing);
    expect(calls.map((c) => c.id[0])).toEqual(["3", "2", "1"]);
    expect(currentCall(calls)?.id).toBe(ringing.id);
    calls = withCall(calls, { ...ringing, state: "ended", reason: "hangup" });
    expect(calls).toHaveLength(3);
    expect(currentCall(calls)).toBeUndefined();
    expect(calls.map((c) => c.id[0])).toEqual(["2", "1", "3"]);
  });

  it("says what each state and outcome means", () => {
    expect(stateText(call(), "Bea")).toBe("Calling Bea…");
    expect(stateText(call({ direction: "incoming" }), "Bea")).toBe("Bea is calling");
    expect(stateText(call({ state: "active" }), "Bea")).toBe("In a call with Bea");
    expect(outcome(call({ state: "missed" }), "Bea")).toBe("Bea did not answer");
    expect(outcome(call({ state: "missed", direction: "incoming", reason: "cancelled" }), "Bea")).toBe("Missed call from Bea");
    expect(outcome(call({ state: "busy", reason: "busy" }), "Bea")).toBe("Bea is in another call");
    expect(outcome(call({ state: "rejected", reason: "declined" }), "Bea")).toBe("Bea declined the call");
    expect(outcome(call({ state: "rejected", direction: "incoming", reason: "declined" }), "Bea")).toBeNull();
    expect(outcome(call({ state: "ended", reason: "hangup" }), "Bea")).toBeNull();
    expect(outcome(call({ state: "ended", reason: "failed" }), "Bea")).toBe("The call with Bea was lost");
  });

  it("words the node's refusals", () => {
    expect(callError(new ApiError(503, "calls_unavailable", "x"))).toBe("Calls are not available in this build of Ancore.");
    expect(callError(new ApiError(409, "in_call", "x"))).toBe("You are in a call already: end it first.");
    expect(callError(new ApiError(502, "user_unreachable", "x"))).toBe("None of their devices can be reached right now.");
  });
});
