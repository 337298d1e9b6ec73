import { describe, expect, it } from "vitest";
import {
  ApiError,
  createClient,
  errorFromResponse,
  splitTokenHash,
  tokenFromLocation,
  tokenStorageKey,
  type Message,
  type TokenEnvironment,
} from "./api";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that records each call and answers with the next canned response. */
function fakeFetch(responses: Array<() => Response>) {
  const calls: Call[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    const next = responses.shift();
    if (!next) throw new Error("unexpected fetch");
    return next();
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const noContent = () => new Response(null, { status: 204 });

const msg: Message = {
  id: "bmsg",
  channel: "bchan",
  author: "a".repeat(52),
  text: "hi",
  mentions: [],
  everyone: false,
  created_at: "2024-05-01T10:00:00Z",
  edited_at: null,
  reactions: [],
  state: "sent",
};

describe("createClient", () => {
  it("sends the token and parses JSON answers", async () => {
    const f = fakeFetch([json(200, { user: "u", device: "d", name: "Ann", status: "online" })]);
    const api = createClient({ baseUrl: "http://127.0.0.1:7878/", token: "tok", fetch: f.fetch });
    const me = await api.me();
    expect(me.name).toBe("Ann");
    expect(f.calls[0]).toMatchObject({
      url: "http://127.0.0.1:7878/api/v1/me",
      method: "GET",
      headers: { Authorization: "Bearer tok", Accept: "application/json" },
      body: undefined,
    });
    expect(f.calls[0]?.headers["Content-Type"]).toBeUndefined();
  });

  it("sends JSON bodies", async () => {
    const f = fakeFetch([json(201, msg)]);
    const api = createClient({ baseUrl: "", token: "tok", fetch: f.fetch });
    const m = await api.sendMessage("bchan", { text: "hi", mentions: ["k"] });
    expect(m).toEqual(msg);
    expect(f.calls[0]).toMatchObject({
      url: "/api/v1/channels/bchan/messages",
      method: "POST",
      headers: { Authorization: "Bearer tok", "Content-Type": "application/json" },
    });
    expect(JSON.parse(f.calls[0]?.body ?? "")).toEqual({ text: "hi", mentions: ["k"] });
  });

  it("encodes path segments, emoji included", async () => {
    const f = fakeFetch([noContent, noContent, noContent]);
    const api = createClient({ baseUrl: "", token: "tok", fetch: f.fetch });
    await expect(api.react("bmsg", "👍🏽")).resolves.toBeUndefined();
    await api.unreact("bmsg", "a/b?c#d");
    await api.kick("b/../x", "user key");
    expect(f.calls.map((c) => [c.method, c.url])).toEqual([
      ["PUT", "/api/v1/messages/bmsg/reactions/%F0%9F%91%8D%F0%9F%8F%BD"],
      ["DELETE", "/api/v1/messages/bmsg/reactions/a%2Fb%3Fc%23d"],
      ["POST", "/api/v1/communities/b%2F..%2Fx/members/user%20key/kick"],
    ]);
  });

  it("maps every route to its method and path", async () => {
    const f = fakeFetch(Array.from({ length: 40 }, () => json(200, {})));
    const api = createClient({ baseUrl: "", token: "t", fetch: f.fetch });
    await api.updateMe({ name: "N" });
    await api.communities();
    await api.createCommunity({ name: "C" });
    await api.joinCommunity({ invite: "ancore://invite/x" });
    await api.community("c");
    await api.updateCommunity("c", { name: "D" });
    await api.deleteCommunity("c");
    await api.leave("c");
    await api.members("c");
    await api.ban("c", "u");
    await api.unban("c", "u");
    await api.setMemberRoles("c", "u", ["r1"]);
    await api.roles("c");
    await api.createRole("c", { name: "mod", position: 1 });
    await api.updateRole("c", "r", { color: 0xff0000 });
    await api.deleteRole("c", "r");
    await api.invites("c");
    await api.createInvite("c");
    await api.revokeInvite("c", "i");
    await api.channels("c");
    await api.createChannel("c", { name: "x" });
    await api.updateChannel("ch", { topic: "t" });
    await api.deleteChannel("ch");
    await api.messages("ch");
    await api.messages("ch", { before: "m1", limit: 20 });
    await api.messages("ch", { around: "m2" });
    await api.editMessage("m", { text: "new" });
    await api.deleteMessage("m");
    await api.typing("ch");
    await api.network();
    expect(f.calls.map((c) => `${c.method} ${c.url} ${c.body ?? ""}`.trim())).toEqual([
      'PATCH /api/v1/me {"name":"N"}',
      "GET /api/v1/communities",
      'POST /api/v1/communities {"name":"C"}',
      'POST /api/v1/communities/join {"invite":"ancore://invite/x"}',
      "GET /api/v1/communities/c",
      'PATCH /api/v1/communities/c {"name":"D"}',
      "DELETE /api/v1/communities/c",
      "POST /api/v1/communities/c/leave",
      "GET /api/v1/communities/c/members",
      "PUT /api/v1/communities/c/bans/u",
      "DELETE /api/v1/communities/c/bans/u",
      'PUT /api/v1/communities/c/members/u/roles {"roles":["r1"]}',
      "GET /api/v1/communities/c/roles",
      'POST /api/v1/communities/c/roles {"name":"mod","position":1}',
      'PATCH /api/v1/communities/c/roles/r {"color":16711680}',
      "DELETE /api/v1/communities/c/roles/r",
      "GET /api/v1/communities/c/invites",
      "POST /api/v1/communities/c/invites {}",
      "DELETE /api/v1/communities/c/invites/i",
      "GET /api/v1/communities/c/channels",
      'POST /api/v1/communities/c/channels {"name":"x"}',
      'PATCH /api/v1/channels/ch {"topic":"t"}',
      "DELETE /api/v1/channels/ch",
      "GET /api/v1/channels/ch/messages",
      "GET /api/v1/channels/ch/messages?before=m1&limit=20",
      "GET /api/v1/channels/ch/messages?around=m2",
      'PATCH /api/v1/messages/m {"text":"new"}',
      "DELETE /api/v1/messages/m",
      "POST /api/v1/channels/ch/typing",
      "GET /api/v1/network",
    ]);
    expect(f.calls.every((c) => c.headers.Authorization === "Bearer t")).toBe(true);
  });

  it("maps the relay routes", async () => {
    const status = { url: "https://relay.example.org", account: null, connected: false, peer: null, error: null };
    const f = fakeFetch([json(200, status), json(200, status), noContent, json(200, status), json(200, status), noContent, noContent, noContent]);
    const api = createClient({ baseUrl: "", token: "t", fetch: f.fetch });
    await expect(api.relay()).resolves.toEqual(status);
    await api.setRelay("https://relay.example.org");
    await expect(api.forgetRelay()).resolves.toBeUndefined();
    await api.registerRelay({ email: "a@example.org", password: "secret123" });
    await api.loginRelay({ email: "a@example.org", password: "secret123" });
    await api.logoutRelay(false);
    await api.logoutRelay(true);
    await api.carryCommunity("c/1");
    expect(f.calls.map((c) => `${c.method} ${c.url} ${c.body ?? ""}`.trim())).toEqual([
      "GET /api/v1/relay",
      'PUT /api/v1/relay {"url":"https://relay.example.org"}',
      "DELETE /api/v1/relay",
      'POST /api/v1/relay/register {"email":"a@example.org","password":"secret123"}',
      'POST /api/v1/relay/login {"email":"a@example.org","password":"secret123"}',
      'POST /api/v1/relay/logout {"wipe":false}',
      'POST /api/v1/relay/logout {"wipe":true}',
      "POST /api/v1/communities/c%2F1/relay",
    ]);
  });

  it("passes the relay's error codes through", async () => {
    const f = fakeFetch([
      json(409, { error: { code: "identity_conflict", message: "belongs to communities" } }),
      json(429, { error: { code: "rate_limited", message: "relay: slow down (retry in 30s)" } }),
      () => new Response("404 page not found", { status: 404, statusText: "Not Found" }),
    ]);
    const api = createClient({ baseUrl: "", token: "t", fetch: f.fetch });
    await expect(api.loginRelay({ email: "a@b.c", password: "x" })).rejects.toMatchObject({ status: 409, code: "identity_conflict" });
    await expect(api.registerRelay({ email: "a@b.c", password: "x" })).rejects.toMatchObject({ status: 429, code: "rate_limited" });
    // A node without the relay routes answers with Go's plain 404.
    await expect(api.relay()).rejects.toMatchObject({ status: 404, code: "bad_response" });
  });

  it("turns the node's error body into an ApiError", async () => {
    const f = fakeFetch([json(403, { error: { code: "forbidden", message: "needs kick" } })]);
    const api = createClient({ baseUrl: "", token: "t", fetch: f.fetch });
    const err = await api.kick("c", "u").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: "forbidden", message: "needs kick", name: "ApiError" });
  });

  it("reports answers that are not the error schema", () => {
    expect(errorFromResponse(502, "Bad Gateway", "<html>oops</html>")).toMatchObject({
      status: 502,
      code: "bad_response",
      message: "HTTP 502 Bad Gateway",
    });
    expect(errorFromResponse(500, "", '{"error":"flat"}')).toMatchObject({ code: "bad_response" });
    expect(errorFromResponse(401, "", '{"error":{"code":"unauthorized","message":"token"}}')).toMatchObject({
      status: 401,
      code: "unauthorized",
      message: "token",
    });
  });

  it("reports a failed connection as a network error", async () => {
    const api = createClient({
      baseUrl: "",
      token: "t",
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
    });
    await expect(api.network()).rejects.toMatchObject({ status: 0, code: "network", message: "Failed to fetch" });
  });

  it("passes the abort signal through", async () => {
    let seen: AbortSignal | null | undefined;
    const api = createClient({
      baseUrl: "",
      token: "t",
      fetch: (_input, init) => {
        seen = init?.signal;
        return Promise.resolve(new Response("[]", { status: 200 }));
      },
    });
    const ctl = new AbortController();
    await api.communities({ signal: ctl.signal });
    expect(seen).toBe(ctl.signal);
  });
});

describe("the token", () => {
  function env(stored: string | null = null) {
    const store = new Map<string, string>();
    if (stored !== null) store.set(tokenStorageKey, stored);
    const replaced: string[] = [];
    const e: TokenEnvironment = {
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
      history: { state: null, replaceState: (_s, _t, url) => void replaced.push(String(url)) },
    };
    return { e, store, replaced };
  }

  it("splits the token out of the hash", () => {
    expect(splitTokenHash("#token=abc")).toEqual({ token: "abc", hash: "" });
    expect(splitTokenHash("#x=1&token=abc")).toEqual({ token: "abc", hash: "#x=1" });
    expect(splitTokenHash("#other")).toEqual({ token: null, hash: "#other" });
    expect(splitTokenHash("")).toEqual({ token: null, hash: "" });
    expect(splitTokenHash("#token=")).toEqual({ token: null, hash: "" });
  });

  it("keeps a token from the hash and takes it out of the URL", () => {
    const { e, store, replaced } = env();
    const token = tokenFromLocation({ pathname: "/", search: "", hash: "#token=s3cret" }, e);
    expect(token).toBe("s3cret");
    expect(store.get(tokenStorageKey)).toBe("s3cret");
    expect(replaced).toEqual(["/"]);
  });

  it("falls back to the token kept in the tab", () => {
    const { e, replaced } = env("kept");
    expect(tokenFromLocation({ pathname: "/c/1", search: "?q", hash: "" }, e)).toBe("kept");
    expect(replaced).toEqual([]);
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "#token=new" }, e)).toBe("new");
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBe("new");
  });

  it("has no token when there is none", () => {
    const { e } = env();
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBeNull();
  });

  it("works without storage", () => {
    const { e } = env();
    e.storage = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "#token=t" }, e)).toBe("t");
    expect(tokenFromLocation({ pathname: "/", search: "", hash: "" }, e)).toBeNull();
  });
});
