// Calls as the UI keeps them: the list GET /calls answers, kept current by
// call:state events, and what people are told about each call — the
// sentences for its states, its outcome and the node's refusals.

import { ApiError } from "@/api/client";
import type { Call, CallState } from "@/api/types";
import { errorText } from "@/lib/errors";

/** The states of a call that is still going on. */
const currentStates: ReadonlySet<CallState> = new Set(["ringing", "connecting", "active", "reconnecting"]);

export function isCurrentState(state: CallState): boolean {
  return currentStates.has(state);
}

export function isCurrent(call: Call): boolean {
  return isCurrentState(call.state);
}

/** The calls with call (from a call:state event) in, current ones first, then newest first. */
export function withCall(calls: readonly Call[] | undefined, call: Call): Call[] {
  const rest = (calls ?? []).filter((c) => c.id !== call.id);
  return [call, ...rest].sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || b.started.localeCompare(a.started));
}

/** The call going on, if there is one (a node is in one call at a time). */
export function currentCall(calls: readonly Call[] | undefined): Call | undefined {
  return calls?.find(isCurrent);
}

/** What the call bar says of a current call with name. */
export function stateText(call: Call, name: string): string {
  switch (call.state) {
    case "ringing":
      return call.direction === "outgoing" ? `Calling ${name}…` : `${name} is calling`;
    case "connecting":
      return `Connecting to ${name}…`;
    case "active":
      return `In a call with ${name}`;
    case "reconnecting":
      return `Reconnecting to ${name}…`;
    default:
      return outcome(call, name) ?? `Call with ${name} ended`;
  }
}

/**
 * What to tell the user of a call that just ended, or null when the end
 * needs no telling: hung up (by either side: the bar going away says it)
 * or declined here.
 */
export function outcome(call: Call, name: string): string | null {
  const out = call.direction === "outgoing";
  switch (call.state) {
    case "missed":
      if (out) return `${name} did not answer`;
      if (call.reason === "busy") return `Missed a call from ${name} while in another call`;
      if (call.reason === "unavailable") return `Missed a call from ${name}: calls are not available in this build`;
      return `Missed call from ${name}`;
    case "busy":
      return `${name} is in another call`;
    case "rejected":
      if (!out) return null;
      return call.reason === "unavailable" ? `${name} cannot take calls on this device` : `${name} declined the call`;
    case "ended":
      switch (call.reason) {
        case "failed":
          return `The call with ${name} was lost`;
        case "unreachable":
          return `Could not reach ${name}`;
        case "not-member":
          return `The call with ${name} ended: one of you left the community`;
        case "answered-elsewhere":
          return "Answered on another device";
        case "declined-elsewhere":
          return "Declined on another device";
      }
      return null;
  }
  return null;
}

/** The sentence for a call the node refused to place or to act on. */
export function callError(err: unknown): string {
  if (!(err instanceof ApiError)) return errorText(err);
  switch (err.code) {
    case "calls_unavailable":
      return "Calls are not available in this build of Ancore.";
    case "in_call":
      return "You are in a call already: end it first.";
    case "user_unreachable":
      return "None of their devices can be reached right now.";
    case "not_member":
      return "You can call only fellow members of a community.";
    case "call_unknown":
    case "call_state":
      return "That call is over.";
  }
  return err.message;
}
