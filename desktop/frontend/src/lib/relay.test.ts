import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import { isUnsupported, relayError, relayHost, relayState } from "./relay";

const relay = (url: string | null, connected = false) => ({ relay: { url, connected, peer: connected ? "12D3Koo" : null } });

describe("relayState", () => {
  it("tells an old node, no relay, connected and unreachable apart", () => {
    expect(relayState(undefined)).toBe("unsupported");
    expect(relayState({})).toBe("unsupported");
    expect(relayState(relay(null))).toBe("none");
    expect(relayState(relay("https://r.example.org", true))).toBe("connected");
    expect(relayState(relay("https://r.example.org"))).toBe("unreachable");
  });
});

describe("isUnsupported", () => {
  it("takes a 404 or 405 for a node without relay routes", () => {
    expect(isUnsupported(new ApiError(404, "bad_response", "HTTP 404"))).toBe(true);
    expect(isUnsupported(new ApiError(405, "bad_response", "HTTP 405"))).toBe(true);
    expect(isUnsupported(new ApiError(502, "relay_unreachable", "x"))).toBe(false);
    expect(isUnsupported(new Error("x"))).toBe(false);
  });
});

describe("relayHost", () => {
  it("shows the host of the URL", () => {
    expect(relayHost({ url: "https://relay.example.org/" })).toBe("relay.example.org");
    expect(relayHost({ url: "http://127.0.0.1:8080" })).toBe("127.0.0.1:8080");
    expect(relayHost({ url: "not a url" })).toBe("not a url");
    expect(relayHost({ url: null })).toBe("");
  });
});

describe("relayError", () => {
  const err = (status: number, code: ConstructorParameters<typeof ApiError>[1], message = "node says") => new ApiError(status, code, message);

  it("puts each error next to the field it is about", () => {
    expect(relayError(err(422, "bad_url")).field).toBe("url");
    expect(relayError(err(502, "relay_unreachable", "dial tcp: refused"))).toEqual({ field: "url", text: "The relay did not answer. dial tcp: refused" });
    expect(relayError(err(422, "invalid_email")).field).toBe("email");
    expect(relayError(err(409, "email_taken")).field).toBe("email");
    expect(relayError(err(422, "weak_password")).field).toBe("password");
    expect(relayError(err(401, "bad_credentials"))).toEqual({ field: "password", text: "Wrong email or password." });
    expect(relayError(err(409, "identity_conflict")).field).toBe("form");
  });

  it("keeps the node's message where it says more", () => {
    expect(relayError(err(429, "rate_limited", "relay: too many logins (retry in 1m0s)")).text).toContain("retry in 1m0s");
    expect(relayError(err(409, "join_refused", "no member admitted this node"))).toEqual({ field: "form", text: "no member admitted this node" });
    expect(relayError(new TypeError("boom"))).toEqual({ field: "form", text: "boom" });
  });

  it("explains carrying", () => {
    expect(relayError(err(409, "no_relay")).text).toMatch(/Settings → Relay/);
    expect(relayError(err(403, "forbidden")).text).toMatch(/owner/);
  });
});
