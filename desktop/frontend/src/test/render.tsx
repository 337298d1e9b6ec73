// Rendering components in tests: a fake node answering scripted routes
// through the real generated client, a session around it, and helpers to
// find, fill and click by test id. Portals (dialogs, menus) render into
// document.body, so lookups search the whole document.

import { act, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { vi } from "vitest";
import { createApi, createQueries } from "@/api/client";
import { TooltipProvider } from "@/components/ui/tooltip";
import { initialChatState, type ChatState } from "@/lib/reducer";
import { SessionContext, type Session } from "@/app/session";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// Radix measures some controls (scroll areas, switches, checkboxes) and the
// shell asks media queries for its narrow layouts; jsdom has neither.
if (typeof window !== "undefined") {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
  window.matchMedia ??= (query: string) =>
    ({ matches: false, media: query, addEventListener: () => undefined, removeEventListener: () => undefined }) as unknown as MediaQueryList;
}

export const SELF = "s".repeat(52);

export type Answer = [status: number, body?: unknown];

/** An answer of a picture route: the bytes, not JSON. */
export class Picture {
  constructor(
    readonly bytes: Uint8Array<ArrayBuffer>,
    readonly type = "image/png",
  ) {}
}

/** The error body the node answers with. */
export const apiError = (code: string, message = code) => ({ error: { code, message } });

/**
 * A node answering each "METHOD /path?query" from a script (others 404);
 * calls are recorded as "METHOD /path body". A Picture is answered as
 * itself, with its type.
 */
export function fakeNode(routes: Record<string, Answer | Answer[]>) {
  const calls: string[] = [];
  const fetch = async (req: Request) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\/v1/, "") + url.search;
    const key = `${req.method} ${decodeURIComponent(path)}`;
    const body = req.body ? await req.text() : "";
    calls.push(body ? `${key} ${body}` : key);
    const route = routes[key] ?? routes[`${req.method} ${decodeURIComponent(url.pathname.replace(/^\/api\/v1/, ""))}`];
    // A list of answers is used up in turn, its last one repeated.
    const list = Array.isArray(route?.[0]) ? (route as Answer[]) : null;
    const answer = (list ? (list.length > 1 ? list.shift() : list[0]) : route) as Answer | undefined;
    if (!answer) return new Response("404 page not found", { status: 404 });
    const [status, json] = answer;
    if (status === 204) return new Response(null, { status });
    if (json instanceof Picture) return new Response(json.bytes, { status, headers: { "Content-Type": json.type } });
    return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
  };
  const api = createApi({ baseUrl: "http://127.0.0.1:1", token: "t", fetch });
  return { api, calls };
}

const mounted: Array<() => void> = [];

/** Unmounts everything rendered; call from afterEach. */
export function cleanupRendered(): void {
  mounted.splice(0).forEach((unmount) => unmount());
}

export interface RenderOptions {
  chat?: ChatState;
  onWiped?: () => void;
  self?: string;
}

export async function render(node: ReturnType<typeof fakeNode>, ui: ReactNode, options: RenderOptions = {}) {
  const session: Session = {
    api: node.api,
    queries: createQueries(node.api),
    self: options.self ?? SELF,
    chat: options.chat ?? initialChatState,
    dispatch: vi.fn(),
    stream: "open",
    subscribe: () => () => undefined,
    onWiped: options.onWiped ?? vi.fn(),
  };
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () =>
    root.render(
      <QueryClientProvider client={queryClient}>
        <SessionContext.Provider value={session}>
          <TooltipProvider>{ui}</TooltipProvider>
        </SessionContext.Provider>
      </QueryClientProvider>,
    ),
  );
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  const $ = (id: string) => document.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;
  const $$ = (id: string) => [...document.querySelectorAll(`[data-testid="${id}"]`)] as HTMLElement[];
  const settle = () => act(() => new Promise((r) => setTimeout(r, 0)));
  const fill = async (id: string, value: string) => {
    const el = $(id) as HTMLInputElement | HTMLTextAreaElement;
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    await act(async () => {
      Object.getOwnPropertyDescriptor(proto, "value")?.set?.call(el, value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
  };
  const click = async (idOrEl: string | HTMLElement) => {
    const el = typeof idOrEl === "string" ? $(idOrEl) : idOrEl;
    if (!el) throw new Error(`nothing to click: ${String(idOrEl)}`);
    await act(async () => el.click());
    await settle();
  };
  return { container, session, queryClient, $, $$, settle, fill, click };
}
