// @vitest-environment jsdom
import { act, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type Community, type Relay } from "../lib/api";
import { initialChatState } from "../lib/reducer";
import { SessionContext, type Session } from "./context";
import { copyText } from "./controls";
import { OfflineDelivery, RelaySettings, RelayStatus } from "./relay";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const SELF = "s".repeat(52);
type Answer = [status: number, body?: unknown];

/** A node answering each "METHOD /path" from a script (others 404); calls are recorded. */
function fakeNode(routes: Record<string, Answer | Answer[]>) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input).replace(/^\/api\/v1/, "");
    const key = `${init?.method ?? "GET"} ${path}`;
    calls.push(init?.body ? `${key} ${String(init.body)}` : key);
    const route = routes[key];
    // A list of answers is used up in turn, its last one repeated.
    const list = Array.isArray(route?.[0]) ? (route as Answer[]) : null;
    const answer = (list ? (list.length > 1 ? list.shift() : list[0]) : route) as Answer | undefined;
    if (!answer) return new Response("404 page not found", { status: 404 });
    const [status, body] = answer;
    return status === 204 ? new Response(null, { status }) : new Response(JSON.stringify(body), { status });
  };
  return { client: createClient({ baseUrl: "", token: "t", fetch }), calls };
}

const err = (code: string, message = code) => ({ error: { code, message } });
const status = (over: Partial<Relay> = {}): Relay => ({ url: "https://relay.example.org", account: null, connected: true, peer: "12D3Koo", error: null, ...over });

const mounted: Array<() => void> = [];
afterEach(() => {
  mounted.splice(0).forEach((unmount) => unmount());
});

async function render(node: ReturnType<typeof fakeNode>, ui: ReactNode, onWiped = vi.fn()) {
  const session: Session = {
    client: node.client,
    self: SELF,
    chat: initialChatState,
    dispatch: () => undefined,
    stream: "open",
    subscribe: () => () => undefined,
    onWiped,
  };
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () =>
    root.render(
      <QueryClientProvider client={queries}>
        <SessionContext.Provider value={session}>{ui}</SessionContext.Provider>
      </QueryClientProvider>,
    ),
  );
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  const $ = (id: string) => container.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;
  const settle = () => act(() => new Promise((r) => setTimeout(r, 0)));
  const fill = async (id: string, value: string) => {
    const el = $(id) as HTMLInputElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set?.call(el, value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
  };
  const click = async (id: string) => {
    await act(async () => void $(id)?.click());
    await settle();
  };
  await settle();
  return { $, fill, click, settle, container };
}

describe("RelaySettings", () => {
  it("says so when the node has no relay support", async () => {
    const ui = await render(fakeNode({}), <RelaySettings />);
    expect(ui.$("relay-unsupported")?.textContent).toMatch(/no relay support/);
  });

  it("connects to a relay by URL, showing a refusal under the field", async () => {
    const node = fakeNode({
      "GET /relay": [[200, status({ url: null, connected: false, peer: null })], [200, status()]],
      "PUT /relay": [[422, err("bad_url")], [200, status()]],
    });
    const ui = await render(node, <RelaySettings />);
    await ui.fill("relay-url", "relay.example.org");
    await ui.click("relay-connect");
    expect(ui.$("relay-error-url")?.textContent).toMatch(/https:\/\/relay\.example\.org/);
    await ui.fill("relay-url", "https://relay.example.org");
    await ui.click("relay-connect");
    expect(ui.$("relay-card")?.textContent).toContain("relay.example.org");
    expect(ui.$("relay-connection")?.textContent).toBe("Connected");
    expect(node.calls).toContain('PUT /relay {"url":"https://relay.example.org"}');
  });

  it("logs in, with wrong credentials shown under the password", async () => {
    const node = fakeNode({
      "GET /relay": [[200, status()], [200, status({ account: { email: "a@example.org" } })]],
      "POST /relay/login": [[401, err("bad_credentials")], [200, status({ account: { email: "a@example.org" } })]],
    });
    const ui = await render(node, <RelaySettings />);
    await ui.fill("relay-email", "a@example.org");
    await ui.fill("relay-password", "wrong password");
    await ui.click("relay-submit");
    expect(ui.$("relay-error-password")?.textContent).toBe("Wrong email or password.");
    await ui.fill("relay-password", "right password");
    await ui.click("relay-submit");
    expect(ui.$("relay-account")?.textContent).toBe("Logged in as a@example.org");
  });

  it("registers once both passwords agree; a taken email shows under the email", async () => {
    const node = fakeNode({ "GET /relay": [200, status()], "POST /relay/register": [409, err("email_taken")] });
    const ui = await render(node, <RelaySettings />);
    await ui.click("relay-tab-register");
    await ui.fill("relay-email", "a@example.org");
    await ui.fill("relay-password", "long enough");
    await ui.fill("relay-password-confirm", "long enougj");
    expect(ui.$("relay-error-password")?.textContent).toBe("The passwords differ.");
    expect((ui.$("relay-submit") as HTMLButtonElement).disabled).toBe(true);
    await ui.fill("relay-password-confirm", "long enough");
    await ui.click("relay-submit");
    expect(ui.$("relay-error-email")?.textContent).toMatch(/already has an account/);
    expect(node.calls.filter((c) => c.startsWith("POST"))).toEqual(['POST /relay/register {"email":"a@example.org","password":"long enough"}']);
  });

  it("logs out, and with wipe leaves for the wiped screen", async () => {
    const node = fakeNode({ "GET /relay": [200, status({ account: { email: "a@example.org" } })], "POST /relay/logout": [204] });
    const onWiped = vi.fn();
    const ui = await render(node, <RelaySettings />, onWiped);
    await ui.click("relay-logout");
    expect(ui.$("relay-logout-confirm-button")?.textContent).toBe("Log out");
    await ui.click("relay-wipe");
    expect(ui.$("relay-logout-confirm-button")?.textContent).toBe("Log out and wipe");
    await ui.click("relay-logout-confirm-button");
    expect(node.calls).toContain('POST /relay/logout {"wipe":true}');
    expect(onWiped).toHaveBeenCalledOnce();
  });
});

describe("RelayStatus", () => {
  it("shows the relay only when one is set", async () => {
    const ui = await render(fakeNode({}), <p>
      <RelayStatus network={undefined} />
      <RelayStatus network={{ peer_id: "p", addrs: [], peers: [], sync: [], relay: { url: null, connected: false, peer: null } }} />
      <RelayStatus network={{ peer_id: "p", addrs: [], peers: [], sync: [], relay: { url: "https://r", connected: false, peer: null } }} />
    </p>);
    expect(ui.container.textContent).toBe(" · relay unreachable");
    expect(ui.$("relay-status")?.dataset.state).toBe("unreachable");
  });
});

describe("OfflineDelivery", () => {
  const community = (owner: string): Community => ({ id: "c1", name: "C", owner, channels: [], roles: [], my_permissions: [], member: true });
  const network = { peer_id: "p", addrs: [], peers: [], sync: [], relay: { url: null, connected: false, peer: null } };

  it("lets the owner ask the relay to carry the community", async () => {
    const node = fakeNode({ "GET /network": [200, network], "POST /communities/c1/relay": [[409, err("no_relay")], [204]] });
    const ui = await render(node, <OfflineDelivery community={community(SELF)} />);
    await ui.click("relay-carry");
    expect(ui.$("relay-carry-error")?.textContent).toMatch(/Settings → Relay/);
    await ui.click("relay-carry");
    expect(ui.$("relay-carry-done")).not.toBeNull();
  });

  it("is not offered to others, nor by a node without relay support", async () => {
    const other = await render(fakeNode({ "GET /network": [200, network] }), <OfflineDelivery community={community("o".repeat(52))} />);
    expect(other.$("offline-delivery")).toBeNull();
    const { relay: _, ...old } = network;
    const oldNode = await render(fakeNode({ "GET /network": [200, old] }), <OfflineDelivery community={community(SELF)} />);
    expect(oldNode.$("offline-delivery")).toBeNull();
  });
});

describe("copyText", () => {
  it("copies through the clipboard, false when there is none or it refuses", async () => {
    const writeText = vi.fn(async () => undefined);
    await expect(copyText("abc", { writeText })).resolves.toBe(true);
    expect(writeText).toHaveBeenCalledWith("abc");
    await expect(copyText("abc", undefined)).resolves.toBe(false);
    await expect(copyText("abc", { writeText: () => Promise.reject(new Error("denied")) })).resolves.toBe(false);
  });
});
