// Why joining (or previewing) a community failed, as a sentence for
// people. The node answers a stable code for each reason a member gave
// (docs/api/openapi.yaml, POST /communities/join); the words are ours, so
// they read the same whichever member refused. Codes of the relay's routes
// (joining by a short code resolves it there first) are relayError's.

import { ApiError } from "@/api/client";
import { relayError } from "@/lib/relay";

/** What the user gave the dialog: an invite link, or a relay's short code. */
export type InviteKind = "link" | "code";

/** Whether text is an invite link (else it may be a short code). */
export function isInviteLink(text: string): boolean {
  return text.trim().toLowerCase().startsWith("ancore://invite/");
}

const askAgain = "Ask a member for a new invite.";

/** The sentence for a failed join or preview of an invite of kind. */
export function joinError(err: unknown, kind: InviteKind): string {
  if (!(err instanceof ApiError)) return relayError(err).text;
  switch (err.code) {
    case "invite_expired":
      return `This invite has expired. ${askAgain}`;
    case "invite_revoked":
      return `This invite was revoked. ${askAgain}`;
    case "invite_used_up":
      return `This invite has been used as many times as it allows. ${askAgain}`;
    case "invite_unknown":
      return kind === "code"
        ? "The relay knows no such invite code. Check the code, or ask for a new one."
        : "The community's members know no such invite. Check that you pasted the whole link.";
    case "not_found":
      return kind === "code" ? "The relay knows no such invite code. Check the code, or ask for a new one." : err.message;
    case "invalid_invite":
      return "That is not an invite. Paste the whole link (ancore://invite/…) or a relay's short code.";
    case "banned":
      return "You are banned from this community.";
    case "dissolved":
      return "This community no longer exists: its owner deleted it.";
    case "community_unreachable":
      return "None of the community's members could be reached. They may be offline: try again when one of them is online.";
    case "join_refused":
      return `The community's members did not let you in. ${err.message}`;
    case "not_ready":
      return "Your node is still starting. Try again in a moment.";
    default:
      return relayError(err).text;
  }
}

/** Whether a preview's failure settles it: joining would fail for the same reason. */
export function refusesJoin(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    ["invite_expired", "invite_revoked", "invite_used_up", "invite_unknown", "invalid_invite", "banned", "dissolved"].includes(err.code)
  );
}
