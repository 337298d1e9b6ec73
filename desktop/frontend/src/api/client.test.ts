import { describe, expect, it } from "vitest";
import { ApiError, createApi, data, errorFromResponse } from "./client";

/** A fetch that records each request and answers with the next canned response. */
function fakeFetch(responses: Array<() => Response>) {
  const requests: Request[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    requests.push(req);
    const next = responses.shift();
    if (!next) throw new Error("unexpected fetch");
    return next();
  };
  return { fetch, requests };
}

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const noContent = () => new Response(null, { status: 204 });
const base = "http://127.0.0.1:7878";

describe("createApi", () => {
  it("sends the token and parses JSON answers", async () => {
    const f = fakeFetch([json(200, [{ id: "b1" }])]);
    const api = createApi({ baseUrl: base, token: "s3cret", fetch: f.fetch });
    await expect(data(api.GET("/communities"))).resolves.toEqual([{ id: "b1" }]);
    const req = f.requests[0] as Request;
    expect(req.url).toBe(`${base}/api/v1/communities`);
    expect(req.method).toBe("GET");
    expect(req.headers.get("Authorization")).toBe("Bearer s3cret");
    expect(req.credentials).toBe("omit");
  });

  it("sends JSON bodies and query parameters", async () => {
    const f = fakeFetch([json(201, { id: "m" }), json(200, [])]);
    const api = createApi({ baseUrl: base, token: "t", fetch: f.fetch });
    await data(api.POST("/channels/{id}/messages", { params: { path: { id: "bchan" } }, body: { text: "hi", mentions: [], everyone: false } }));
    await data(api.GET("/channels/{id}/messages", { params: { path: { id: "bchan" }, query: { before: "bm1", limit: 50 } } }));
    const [post, get] = f.requests as [Request, Request];
    expect(post.method).toBe("POST");
    expect(post.headers.get("Content-Type")).toBe("application/json");
    expect(await post.text()).toBe('{"text":"hi","mentions":[],"everyone":false}');
    expect(get.url).toBe(`${base}/api/v1/channels/bchan/messages?before=bm1&limit=50`);
  });

  it("encodes path segments, emoji included", async () => {
    const f = fakeFetch([noContent]);
    const api = createApi({ baseUrl: base, token: "t", fetch: f.fetch });
    await expect(data(api.PUT("/messages/{id}/reactions/{emoji}", { params: { path: { id: "bm/1", emoji: "👍🏽" } } }))).resolves.toBeUndefined();
    expect((f.requests[0] as Request).url).toBe(`${base}/api/v1/messages/bm%2F1/reactions/${encodeURIComponent("👍🏽")}`);
  });

  it("turns the node's error body into an ApiError", async () => {
    const f = fakeFetch([json(403, { error: { code: "forbidden", message: "needs kick" } })]);
    const api = createApi({ baseUrl: base, token: "t", fetch: f.fetch });
    const err = await data(api.POST("/communities/{id}/members/{user}/kick", { params: { path: { id: "c", user: "u" } } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: "forbidden", message: "needs kick", name: "ApiError" });
  });

  it("passes the relay's error codes through, and Go's plain 404 as bad_response", async () => {
    const f = fakeFetch([json(429, { error: { code: "rate_limited", message: "try in 3s" } }), () => new Response("404 page not found", { status: 404 })]);
    const api = createApi({ baseUrl: base, token: "t", fetch: f.fetch });
    await expect(data(api.POST("/relay/register", { body: { email: "a@b.c", password: "x" } }))).rejects.toMatchObject({ status: 429, code: "rate_limited" });
    await expect(data(api.GET("/relay"))).rejects.toMatchObject({ status: 404, code: "bad_response" });
  });

  it("reports a 200 answer that is not JSON", async () => {
    const f = fakeFetch([() => new Response("<html>", { status: 200, headers: { "Content-Type": "text/html" } })]);
    const api = createApi({ baseUrl: base, token: "t", fetch: f.fetch });
    await expect(data(api.GET("/me"))).rejects.toMatchObject({ status: 200, code: "bad_response" });
  });

  it("reports answers that are not the error schema", () => {
    expect(errorFromResponse(502, "Bad Gateway", "<html>oops</html>")).toMatchObject({ status: 502, code: "bad_response", message: "HTTP 502 Bad Gateway" });
    expect(errorFromResponse(500, "", '{"error":"flat"}')).toMatchObject({ code: "bad_response" });
    expect(errorFromResponse(401, "", '{"error":{"code":"unauthorized","message":"token"}}')).toMatchObject({ status: 401, code: "unauthorized", message: "token" });
  });

  it("reports a failed connection as a network error", async () => {
    const api = createApi({ baseUrl: base, token: "t", fetch: () => Promise.reject(new TypeError("Failed to fetch")) });
    await expect(data(api.GET("/network"))).rejects.toMatchObject({ status: 0, code: "network", message: "Failed to fetch" });
  });

  it("passes the abort signal through and does not call an abort a network error", async () => {
    let seen: AbortSignal | undefined;
    const api = createApi({
      baseUrl: base,
      token: "t",
      fetch: (req) => {
        seen = req.signal;
        return new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
      },
    });
    const ctl = new AbortController();
    const call = data(api.GET("/communities", { signal: ctl.signal })).catch((e: unknown) => e);
    ctl.abort();
    const err = await call;
    expect(seen?.aborted).toBe(true);
    expect(err).not.toBeInstanceOf(ApiError);
  });
});
