// The transport to the local node API: openapi-fetch over the generated
// paths (schema.d.ts), with the token on every request and every failure
// thrown as one ApiError. The UI talks to the node through this client
// only; src/api/queries.ts wraps it in TanStack Query hooks.

import createFetchClient, { type Middleware } from "openapi-fetch";
import createQueryClient from "openapi-react-query";
import type { paths } from "./schema";
import type { ErrorCode } from "./types";

/**
 * A failed request. `code` is the node's ErrorCode when it answered with
 * its error body; "bad_response" when it answered something else, and
 * "network" (status 0) when no answer came at all.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: ErrorCode | "bad_response" | "network",
    message: string,
  ) {
    super(message);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The ApiError for an answer with a non-2xx status and the given body text. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const e = isRecord(parsed) ? parsed.error : undefined;
  if (isRecord(e) && typeof e.code === "string" && typeof e.message === "string") {
    return new ApiError(status, e.code as ErrorCode, e.message);
  }
  return new ApiError(status, "bad_response", `HTTP ${status}${statusText ? " " + statusText : ""}`);
}

export interface ClientOptions {
  /**
   * The node's origin, e.g. "http://127.0.0.1:7878"; "" for the page's own
   * (the node serves the UI beside the API).
   */
  baseUrl: string;
  token: string;
  /** Defaults to the global fetch. */
  fetch?: (input: Request) => Promise<Response>;
}

// Non-2xx answers and answers that are neither JSON nor a picture (the
// avatar routes) become ApiErrors, so a call either gives the schema's
// data or throws.
const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) {
      throw errorFromResponse(response.status, response.statusText, await response.clone().text());
    }
    const type = response.headers.get("Content-Type") ?? "";
    if (response.status !== 204 && response.headers.get("Content-Length") !== "0" && !type.includes("json") && !type.startsWith("image/")) {
      throw new ApiError(response.status, "bad_response", `HTTP ${response.status}: the answer is not JSON`);
    }
    return undefined;
  },
  onError({ error, request }) {
    if (error instanceof ApiError || request.signal.aborted) return error instanceof Error ? error : new Error(String(error));
    return new ApiError(0, "network", error instanceof Error ? error.message : String(error));
  },
};

/** The typed client: `api.GET("/communities/{id}", { params: { path: { id } } })`. */
export function createApi(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "") + "/api/v1";
  const api = createFetchClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${options.token}`, Accept: "application/json" },
    credentials: "omit",
    cache: "no-store",
    ...(options.fetch && { fetch: options.fetch }),
  });
  api.use(throwOnError);
  return api;
}

export type Api = ReturnType<typeof createApi>;

/** The TanStack Query side of the client: query options keyed by method, path and parameters. */
export function createQueries(api: Api) {
  return createQueryClient(api);
}

export type Queries = ReturnType<typeof createQueries>;

/**
 * The data of a call that succeeded (the middleware threw otherwise).
 * Routes answering 204 have no data, which their types say.
 */
export async function data<T>(call: Promise<{ data?: T }>): Promise<T> {
  return (await call).data as T;
}
