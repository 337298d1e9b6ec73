// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import type { Relay } from "@/api/types";
import { cleanupRendered, fakeNode, render } from "@/test/render";
import { FirstRun } from "./first-run";

afterEach(cleanupRendered);

const relay = (over: Partial<Relay> = {}): Relay => ({ url: null, account: null, connected: false, peer: null, error: null, ...over });
const me = { user: "u".repeat(52), device: "12D3Koo", name: "", status: "online", status_text: "" };

describe("FirstRun", () => {
  it("offers to log in to a relay before it asks for a new name", async () => {
    const ui = await render(fakeNode({ "GET /relay": [200, relay()] }), <FirstRun />);
    await ui.settle();
    const login = ui.$("first-run-login");
    const fresh = ui.$("first-run-new");
    expect(login?.textContent).toBe("Log in to a relay");
    expect(fresh).not.toBeNull();
    expect(login!.compareDocumentPosition(fresh!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(ui.$("name-input")).toBeNull();
  });

  it("logs a returning user in without asking for a name", async () => {
    const node = fakeNode({
      "GET /relay": [[200, relay()], [200, relay({ url: "https://relay.example.org", connected: true, peer: "12D3Koo" })]],
      "PUT /relay": [200, relay({ url: "https://relay.example.org", connected: true, peer: "12D3Koo" })],
      "POST /relay/login": [200, relay({ url: "https://relay.example.org", connected: true, peer: "12D3Koo", account: { email: "ada@example.org" } })],
      "GET /me": [200, { ...me, name: "Ada" }],
    });
    const ui = await render(node, <FirstRun />);
    await ui.settle();
    await ui.click("first-run-login");
    await ui.fill("relay-url", "https://relay.example.org");
    await ui.click("relay-connect");
    await ui.settle();
    expect(ui.$("relay-tab-login")?.getAttribute("aria-selected")).toBe("true");
    await ui.fill("relay-email", "ada@example.org");
    await ui.fill("relay-password", "correct horse");
    await ui.click("relay-submit");
    await ui.settle();
    expect(node.calls).toContain('POST /relay/login {"email":"ada@example.org","password":"correct horse"}');
    expect(node.calls.some((c) => c.startsWith("PATCH /me"))).toBe(false);
  });

  it("asks a new user for a name, with a way back", async () => {
    const node = fakeNode({ "GET /relay": [200, relay()], "PATCH /me": [200, { ...me, name: "Ada" }] });
    const ui = await render(node, <FirstRun />);
    await ui.settle();
    await ui.click("first-run-new");
    await ui.click("first-run-back");
    expect(ui.$("name-input")).toBeNull();
    await ui.click("first-run-new");
    await ui.fill("name-input", " Ada ");
    await ui.click("name-save");
    expect(node.calls).toContain('PATCH /me {"name":"Ada"}');
  });

  it("asks for a name once logged in to an account that had no profile", async () => {
    const ui = await render(fakeNode({ "GET /relay": [200, relay({ url: "https://r.example.org", account: { email: "a@example.org" } })] }), <FirstRun />);
    await ui.settle();
    expect(ui.$("name-input")).not.toBeNull();
    expect(ui.$("name-hint")?.textContent).toMatch(/logged in/);
    expect(ui.$("first-run-login")).toBeNull();
  });

  it("asks only for a name on a node without relay support", async () => {
    const ui = await render(fakeNode({}), <FirstRun />);
    await ui.settle();
    expect(ui.$("name-input")).not.toBeNull();
    expect(ui.$("first-run-back")).toBeNull();
  });
});
