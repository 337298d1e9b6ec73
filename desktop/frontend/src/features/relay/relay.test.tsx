// @vitest-environment jsdom
import { act } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Community, Network, Relay } from "@/api/types";
import { copyText } from "@/components/copy-field";
import { apiError, cleanupRendered, fakeNode, render, SELF } from "@/test/render";
import { OfflineDelivery } from "./offline-delivery";
import { RelaySettings } from "./relay-settings";
import { RelayStatus } from "./relay-status";

afterEach(cleanupRendered);

const status = (over: Partial<Relay> = {}): Relay => ({ url: "https://relay.example.org", account: null, connected: true, peer: "12D3Koo", error: null, ...over });

/** Radix tabs switch on mouse down, not on click. */
async function pressTab(el: HTMLElement | null) {
  if (!el) throw new Error("no tab");
  await act(async () => void el.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, button: 0 })));
}

describe("RelaySettings", () => {
  it("says so when the node has no relay support", async () => {
    const ui = await render(fakeNode({}), <RelaySettings />);
    await ui.settle();
    expect(ui.$("relay-unsupported")?.textContent).toMatch(/no relay support/);
  });

  it("connects to a relay by URL, showing a refusal under the field", async () => {
    const node = fakeNode({
      "GET /relay": [[200, status({ url: null, connected: false, peer: null })], [200, status()]],
      "PUT /relay": [[422, apiError("bad_url")], [200, status()]],
    });
    const ui = await render(node, <RelaySettings />);
    await ui.settle();
    await ui.fill("relay-url", "relay.example.org");
    await ui.click("relay-connect");
    await ui.settle();
    expect(ui.$("relay-error-url")?.textContent).toMatch(/https:\/\/relay\.example\.org/);
    expect(ui.$("relay-url")?.getAttribute("aria-invalid")).toBe("true");
    await ui.fill("relay-url", "https://relay.example.org");
    await ui.click("relay-connect");
    await ui.settle();
    expect(ui.$("relay-card")?.textContent).toContain("relay.example.org");
    expect(ui.$("relay-connection")?.textContent).toBe("Connected");
    expect(node.calls).toContain('PUT /relay {"url":"https://relay.example.org"}');
  });

  it("logs in, with wrong credentials shown under the password", async () => {
    const node = fakeNode({
      "GET /relay": [[200, status()], [200, status({ account: { email: "a@example.org" } })]],
      "POST /relay/login": [[401, apiError("bad_credentials")], [200, status({ account: { email: "a@example.org" } })]],
    });
    const ui = await render(node, <RelaySettings />);
    await ui.settle();
    expect(ui.$("relay-tab-login")?.getAttribute("aria-selected")).toBe("true");
    await ui.fill("relay-email", "a@example.org");
    await ui.fill("relay-password", "wrong password");
    await ui.click("relay-submit");
    await ui.settle();
    expect(ui.$("relay-error-password")?.textContent).toBe("Wrong email or password.");
    expect(ui.$("relay-password")?.getAttribute("aria-invalid")).toBe("true");
    await ui.fill("relay-password", "right password");
    await ui.click("relay-submit");
    await ui.settle();
    expect(ui.$("relay-account")?.textContent).toBe("Logged in as a@example.org");
  });

  it("registers once both passwords agree; a taken email shows under the email", async () => {
    const node = fakeNode({ "GET /relay": [200, status()], "POST /relay/register": [409, apiError("email_taken")] });
    const ui = await render(node, <RelaySettings />);
    await ui.settle();
    await pressTab(ui.$("relay-tab-register"));
    expect(ui.$("relay-tab-register")?.getAttribute("aria-selected")).toBe("true");
    await ui.fill("relay-email", "a@example.org");
    await ui.fill("relay-password", "long enough");
    await ui.fill("relay-password-confirm", "long enougj");
    expect(ui.$("relay-error-password")?.textContent).toBe("The passwords differ.");
    expect((ui.$("relay-submit") as HTMLButtonElement).disabled).toBe(true);
    await ui.fill("relay-password-confirm", "long enough");
    await ui.click("relay-submit");
    await ui.settle();
    expect(ui.$("relay-error-email")?.textContent).toMatch(/already has an account/);
    expect(node.calls.filter((c) => c.startsWith("POST"))).toEqual(['POST /relay/register {"email":"a@example.org","password":"long enough"}']);
  });

  it("logs out after a confirmation, and with wipe leaves for the wiped screen", async () => {
    const node = fakeNode({ "GET /relay": [200, status({ account: { email: "a@example.org" } })], "POST /relay/logout": [204] });
    const onWiped = vi.fn();
    const ui = await render(node, <RelaySettings />, { onWiped });
    await ui.settle();
    await ui.click("relay-logout");
    expect(ui.$("relay-logout-confirm")).not.toBeNull();
    expect(ui.$("relay-wipe")?.getAttribute("aria-checked")).toBe("false");
    expect(ui.$("relay-logout-confirm-button")?.textContent).toBe("Log out");
    await ui.click("relay-wipe");
    expect(ui.$("relay-logout-confirm-button")?.textContent).toBe("Log out and wipe");
    expect(node.calls.some((c) => c.startsWith("POST /relay/logout"))).toBe(false);
    await ui.click("relay-logout-confirm-button");
    await ui.settle();
    expect(node.calls).toContain('POST /relay/logout {"wipe":true}');
    expect(onWiped).toHaveBeenCalledOnce();
  });

  it("logs out without wiping: the log-in form is back", async () => {
    const node = fakeNode({
      "GET /relay": [[200, status({ account: { email: "a@example.org" } })], [200, status()]],
      "POST /relay/logout": [204],
    });
    const onWiped = vi.fn();
    const ui = await render(node, <RelaySettings />, { onWiped });
    await ui.settle();
    await ui.click("relay-logout");
    await ui.click("relay-logout-confirm-button");
    await ui.settle();
    expect(node.calls).toContain('POST /relay/logout {"wipe":false}');
    expect(ui.$("relay-account")).toBeNull();
    expect(ui.$("relay-logout-confirm")).toBeNull();
    expect(ui.$("relay-tab-login")).not.toBeNull();
    expect(onWiped).not.toHaveBeenCalled();
  });
});

describe("RelayStatus", () => {
  it("shows the relay only when one is set", async () => {
    const net = (relay: Network["relay"]): Network => ({ peer_id: "p", addrs: [], peers: [], sync: [], relay });
    const ui = await render(
      fakeNode({}),
      <p>
        <RelayStatus network={undefined} />
        <RelayStatus network={net({ url: null, connected: false, peer: null })} />
        <RelayStatus network={net({ url: "https://r", connected: false, peer: null })} />
      </p>,
    );
    expect(ui.container.textContent).toBe(" · relay unreachable");
    expect(ui.$("relay-status")?.dataset.state).toBe("unreachable");
  });
});

describe("OfflineDelivery", () => {
  const community = (owner: string): Community => ({ id: "c1", name: "C", owner, channels: [], roles: [], my_permissions: [], my_roles: [], member: true, dissolved: false, carried: false });
  const network = { peer_id: "p", addrs: [], peers: [], sync: [], relay: { url: null, connected: false, peer: null } };

  it("lets the owner ask the relay to carry the community", async () => {
    const node = fakeNode({ "GET /network": [200, network], "POST /communities/c1/relay": [[409, apiError("no_relay")], [204]] });
    const ui = await render(node, <OfflineDelivery community={community(SELF)} />);
    await ui.settle();
    await ui.click("relay-carry");
    await ui.settle();
    expect(ui.$("relay-carry-error")?.textContent).toMatch(/Settings → Relay/);
    await ui.click("relay-carry");
    await ui.settle();
    expect(ui.$("relay-carry-done")).not.toBeNull();
    expect(ui.$("relay-carry")?.textContent).toBe("Carried by the relay");
  });

  it("says so when the relay already carries the community", async () => {
    const ui = await render(fakeNode({ "GET /network": [200, network] }), <OfflineDelivery community={{ ...community(SELF), carried: true }} />);
    await ui.settle();
    expect(ui.$("relay-carry")?.textContent).toBe("Carried by the relay");
    expect((ui.$("relay-carry") as HTMLButtonElement).disabled).toBe(true);
    expect(ui.$("relay-carry-done")?.textContent).toBe("The relay carries this community.");
  });

  it("is not offered to others, nor by a node without relay support", async () => {
    const other = await render(fakeNode({ "GET /network": [200, network] }), <OfflineDelivery community={community("o".repeat(52))} />);
    await other.settle();
    expect(other.$("offline-delivery")).toBeNull();
    cleanupRendered();
    const { relay: _, ...old } = network;
    const oldNode = await render(fakeNode({ "GET /network": [200, old] }), <OfflineDelivery community={community(SELF)} />);
    await oldNode.settle();
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
