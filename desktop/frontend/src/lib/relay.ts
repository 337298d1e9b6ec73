// What the UI makes of the node's relay routes (docs/api/openapi.yaml,
// tag relay): whether the node supports a relay at all, the relay's state
// in a word, and the node's relay errors as sentences placed next to the
// field they are about. A node without relay support answers GET /relay
// with 404 and GET /network without "relay"; the UI then offers nothing
// of the relay and never fails for it.

import { ApiError } from "@/api/client";
import type { NetworkRelay, Relay } from "@/api/types";

/** The relay in a word, for the connection line. */
export type RelayState = "unsupported" | "none" | "connected" | "unreachable";

export function relayState(network: { relay?: NetworkRelay } | undefined): RelayState {
  const relay = network?.relay;
  if (relay === undefined) return "unsupported";
  if (relay.url === null) return "none";
  return relay.connected ? "connected" : "unreachable";
}

/** Whether an answer to GET /relay says the node has no relay routes. */
export function isUnsupported(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405);
}

/** The relay's host for people: "relay.example.org" for "https://relay.example.org/". */
export function relayHost(relay: Pick<Relay, "url">): string {
  if (relay.url === null) return "";
  try {
    return new URL(relay.url).host || relay.url;
  } catch {
    return relay.url;
  }
}

/** The form field an error is about; "form" for the form as a whole. */
export type RelayField = "url" | "email" | "password" | "form";

export interface FieldError {
  field: RelayField;
  text: string;
}

/**
 * An error of a relay route as a sentence for people,
 * and the field to show it under. The node's own message is kept where it
 * says more than a fixed sentence could (when to retry, why the relay did
 * not answer).
 */
export function relayError(err: unknown): FieldError {
  if (!(err instanceof ApiError)) return { field: "form", text: err instanceof Error ? err.message : String(err) };
  switch (err.code) {
    case "bad_url":
      return { field: "url", text: "Enter the relay's address, like https://relay.example.org." };
    case "relay_unreachable":
      return { field: "url", text: `The relay did not answer. ${err.message}` };
    case "relay_error":
      return { field: "form", text: `The relay answered something this node cannot use. ${err.message}` };
    case "invalid_email":
      return { field: "email", text: "That is not an email address." };
    case "email_taken":
      return { field: "email", text: "That email already has an account: log in instead." };
    case "weak_password":
      return { field: "password", text: "The password needs at least 8 characters." };
    case "bad_credentials":
      return { field: "password", text: "Wrong email or password." };
    case "bad_backup":
      return { field: "password", text: "The account's identity backup does not open with this password." };
    case "identity_conflict":
      return {
        field: "form",
        text: "This device is another user who belongs to communities. To become this account's user here, log out with “also wipe this device” first.",
      };
    case "rate_limited":
      return { field: "form", text: `Too many tries. ${err.message}` };
    case "no_relay":
      return { field: "form", text: "That needs a relay: connect to one (and log in) in Settings → Relay." };
    case "forbidden":
      return { field: "form", text: "Only the community's owner can do that." };
    default:
      return { field: "form", text: err.message };
  }
}
