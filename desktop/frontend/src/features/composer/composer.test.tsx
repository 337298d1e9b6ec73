// @vitest-environment jsdom
import { act, useState } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Channel, Limits, Message } from "@/api/types";
import { mentionToken, roleMentionToken } from "@/lib/markdown";
import { cleanupRendered, fakeNode, render } from "@/test/render";
import { Composer } from "./composer";
import { draftBody, draftKey, emptyDraft, loadDraft, type Draft } from "./drafts";
import { EditBox } from "./edit-box";
import { MentionInput } from "./mention-input";
import { indexShortcodes, type ShortcodeSource } from "./shortcodes";
import { textLimit } from "./text-limit";

const ALICE = "a".repeat(52);
const ALAN = "b".repeat(52);
const BOB = "c".repeat(52);
const MODS = "bafyreimods";
const members = [
  { user: ALICE, name: "Alice" },
  { user: ALAN, name: "Alan" },
  { user: BOB, name: "Bob" },
];
const roles = [{ role: MODS, name: "Mods" }];

const shortcodeIndex = indexShortcodes({ "1F44D": ["+1", "thumbsup"], "1F604": "smile", "1F603": "smiley", "1F389": "tada", "2600": "sunny" });
const shortcodes: ShortcodeSource = () => Promise.resolve(shortcodeIndex);

const mounted: Array<() => void> = [];
afterEach(() => {
  mounted.splice(0).forEach((unmount) => unmount());
  cleanupRendered();
});

function setup(props: { roles?: typeof roles; offerEveryone?: boolean } = {}) {
  const keys = vi.fn();
  let draft: Draft = emptyDraft;
  function Harness() {
    const [d, setD] = useState<Draft>(emptyDraft);
    draft = d;
    return <MentionInput data-testid="input" draft={d} onDraft={setD} members={members} shortcodes={shortcodes} onKeyDown={(e) => keys(e.key)} {...props} />;
  }
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(<Harness />));
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  const textarea = container.querySelector("textarea") as HTMLTextAreaElement;
  act(() => textarea.focus());
  const type = async (text: string) =>
    act(async () => {
      const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")?.set;
      set?.call(textarea, text);
      textarea.setSelectionRange(text.length, text.length);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
  const press = (key: string) => act(() => void textarea.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true })));
  const options = (id = "mention-option") => [...container.querySelectorAll(`[data-testid=${id}]`)].map((o) => [o.textContent, o.getAttribute("aria-selected")]);
  return { keys, type, press, options, textarea, draft: () => draft };
}

describe("MentionInput", () => {
  it("lists matching members after @ and picks one with the keyboard", async () => {
    const t = setup();
    await t.type("hi @al");
    expect(t.options()).toEqual([
      ["@Alan", "true"],
      ["@Alice", "false"],
    ]);
    t.press("ArrowDown");
    expect(t.options()[1]).toEqual(["@Alice", "true"]);
    t.press("ArrowDown");
    expect(t.options()[0]).toEqual(["@Alan", "true"]);
    t.press("ArrowUp");
    t.press("Enter");
    expect(t.draft()).toEqual({ text: "hi @Alice ", picked: [{ user: ALICE, name: "Alice" }] });
    expect(t.options()).toEqual([]);
    expect(t.keys).not.toHaveBeenCalled();
    expect(t.textarea.selectionStart).toBe("hi @Alice ".length);
  });

  it("picks with Tab too, and sends the picked name as its token", async () => {
    const t = setup();
    await t.type("@bo");
    t.press("Tab");
    await t.type(t.draft().text + "look");
    expect(draftBody(t.draft())).toEqual({ text: `${mentionToken(BOB)} look`, mentions: [BOB], everyone: false });
  });

  it("closes on Esc without passing it on, and opens again for the next @", async () => {
    const t = setup();
    await t.type("@a");
    const esc = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    const outside = vi.fn();
    window.addEventListener("keydown", outside);
    act(() => void t.textarea.dispatchEvent(esc));
    window.removeEventListener("keydown", outside);
    expect(t.options()).toEqual([]);
    expect(outside).not.toHaveBeenCalled();
    expect(t.keys).not.toHaveBeenCalled();
    await t.type("@al");
    expect(t.options()).toEqual([]);
    await t.type("@al @b");
    expect(t.options()).toEqual([["@Bob", "true"]]);
  });

  it("passes keys on when no list is open", async () => {
    const t = setup();
    await t.type("hello");
    t.press("Enter");
    await t.type("@zz");
    t.press("Enter");
    expect(t.keys.mock.calls).toEqual([["Enter"], ["Enter"]]);
  });

  it("offers roles and @everyone, and sends a picked role as its token", async () => {
    const t = setup({ roles, offerEveryone: true });
    await t.type("@");
    expect(t.options().map(([text]) => text)).toEqual(["@Alan", "@Alice", "@Bob", "@everyone", "@Modsrole"]);
    await t.type("ping @mo");
    expect(t.options()).toEqual([["@Modsrole", "true"]]);
    t.press("Tab");
    expect(t.draft()).toEqual({ text: "ping @Mods ", picked: [{ role: MODS, name: "Mods" }] });
    await t.type(t.draft().text + "and @ev");
    t.press("Enter");
    expect(t.draft().text).toBe("ping @Mods and @everyone ");
    expect(draftBody(t.draft())).toEqual({ text: `ping ${roleMentionToken(MODS)} and @everyone`, mentions: [], everyone: true });
  });
});

describe("shortcode completion", () => {
  it("offers emoji for :letters (two at least) and Tab inserts the emoji", async () => {
    const t = setup();
    await t.type("nice :t");
    expect(t.options("shortcode-option")).toEqual([]);
    await t.type("nice :thumbsu");
    expect(t.options("shortcode-option")).toEqual([["👍:thumbsup:", "true"]]);
    t.press("Tab");
    expect(t.draft().text).toBe("nice 👍 ");
    expect(t.textarea.selectionStart).toBe("nice 👍 ".length);
    expect(t.keys).not.toHaveBeenCalled();
  });

  it("ranks codes that start with the query first, shortest first, and Enter picks", async () => {
    const t = setup();
    await t.type(":smi");
    expect(t.options("shortcode-option").map(([text]) => text)).toEqual(["😄:smile:", "😃:smiley:"]);
    t.press("ArrowDown");
    t.press("Enter");
    expect(t.draft().text).toBe("😃 ");
  });

  it("leaves times and URLs alone", async () => {
    const t = setup();
    await t.type("at 12:30");
    await t.type("see http://example");
    expect(t.options("shortcode-option")).toEqual([]);
  });

  it("turns a complete :code: followed by a space into its emoji", async () => {
    const t = setup();
    await t.type("party :tad"); // loads the shortcodes
    await t.type("party :tada: ");
    expect(t.draft().text).toBe("party 🎉 ");
    await t.type("party 🎉 :sunny:!");
    expect(t.draft().text).toBe("party 🎉 ☀\uFE0F!");
    await t.type("what :nope: ");
    expect(t.draft().text).toBe("what :nope: ");
  });
});

const general: Channel = { id: "ch-general", community: "c1", name: "general", topic: "", type: "text", position: 0 };
const random: Channel = { ...general, id: "ch-random", name: "random" };

function composer(channel: Channel, extra: Partial<Parameters<typeof Composer>[0]> = {}) {
  return (
    <Composer
      channel={channel}
      members={members}
      nameOf={(u) => members.find((m) => m.user === u)?.name}
      lastOwn={null}
      reply={null}
      onReplyDone={() => undefined}
      shortcodes={shortcodes}
      {...extra}
    />
  );
}

describe("Composer drafts", () => {
  beforeEach(() => sessionStorage.clear());

  it("keeps each channel's draft, with its mentions and reply, across a switch and a remount", async () => {
    const node = fakeNode({ "POST /channels/ch-general/typing": [204], "POST /channels/ch-random/typing": [204] });
    let r = await render(node, composer(general, { reply: { id: "m-1", name: "Bob" } }));
    await r.fill("composer", "@Bob half-written");
    expect(loadDraft(sessionStorage, general.id)).toEqual({ text: "@Bob half-written", picked: [], replyTo: "m-1" });
    cleanupRendered();

    r = await render(node, composer(random));
    expect((r.$("composer") as HTMLTextAreaElement).value).toBe("");
    await r.fill("composer", "other");
    cleanupRendered();

    r = await render(node, composer(general));
    expect((r.$("composer") as HTMLTextAreaElement).value).toBe("@Bob half-written");
    expect(JSON.parse(sessionStorage.getItem(draftKey(random.id)) ?? "null")).toEqual({ text: "other", picked: [], replyTo: null });
  });

  it("clears the draft when the message is sent", async () => {
    sessionStorage.setItem(draftKey(general.id), JSON.stringify({ text: "hi @Bob ", picked: [{ user: BOB, name: "Bob" }], replyTo: null }));
    const node = fakeNode({ "POST /channels/ch-general/messages": [201, { id: "m-2" }], "POST /channels/ch-general/typing": [204] });
    const r = await render(node, composer(general));
    const box = r.$("composer") as HTMLTextAreaElement;
    expect(box.value).toBe("hi @Bob ");
    await act(async () => void box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true })));
    await r.settle();
    expect(node.calls).toContain(`POST /channels/ch-general/messages ${JSON.stringify({ text: `hi ${mentionToken(BOB)}`, mentions: [BOB], everyone: false })}`);
    expect(box.value).toBe("");
    expect(sessionStorage.getItem(draftKey(general.id))).toBeNull();
  });

  it("offers a retry when sending fails", async () => {
    const node = fakeNode({
      "POST /channels/ch-general/messages": [[500, { error: { code: "internal", message: "disk full" } }], [201, { id: "m-3" }]],
      "POST /channels/ch-general/typing": [204],
    });
    const r = await render(node, composer(general));
    await r.fill("composer", "try me");
    const box = r.$("composer") as HTMLTextAreaElement;
    await act(async () => void box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true })));
    await r.settle();
    expect(r.$("send-retry")).not.toBeNull();
    expect(box.value).toBe("try me");
    await r.click("send-retry");
    await r.settle();
    expect(box.value).toBe("");
    expect(r.$("send-retry")).toBeNull();
  });
});

const limits: Limits = {
  message_text: 100,
  mentions: 2,
  emoji_bytes: 64,
  name: 100,
  status_text: 128,
  topic: 1024,
  icon_bytes: 16384,
  avatar_bytes: 16384,
  picture_bytes: 10485760,
  picture_pixels: 50000000,
  member_roles: 250,
  page: 100,
  invite_ttl_seconds: 315360000,
  request_bytes: 1048576,
};

const enter = (box: HTMLElement) => act(async () => void box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true })));

describe("textLimit", () => {
  it("counts the text as sent: code points, trimmed, mention tokens included", () => {
    expect(textLimit({ text: "x".repeat(89), picked: [] }, limits)).toEqual({ remaining: 11, near: false, refusal: null });
    expect(textLimit({ text: ` ${"é".repeat(90)} `, picked: [] }, limits)).toEqual({ remaining: 10, near: true, refusal: null });
    expect(textLimit({ text: "😀".repeat(100), picked: [] }, limits).refusal).toBeNull(); // 200 UTF-16 units, 100 characters
    const token = mentionToken(BOB).length;
    expect(textLimit({ text: "@Bob", picked: [{ user: BOB, name: "Bob" }] }, limits).remaining).toBe(100 - token);
    expect(textLimit({ text: "y".repeat(101), picked: [] }, limits).refusal).toBe("Too long to send: 1 character over the limit of 100.");
    expect(textLimit({ text: "@Bob @Alice @Alan", picked: members }, { ...limits, message_text: 4000 }).refusal).toBe("Too many mentions to send: at most 2.");
  });

  it("refuses nothing while the limits are unknown", () => {
    expect(textLimit({ text: "z".repeat(10_000), picked: [] }, undefined)).toEqual({ remaining: null, near: false, refusal: null });
  });
});

describe("Composer limits", () => {
  beforeEach(() => sessionStorage.clear());

  it("shows what is left near the limit, refuses to send over it and says why, and never cuts the text", async () => {
    const node = fakeNode({ "GET /limits": [200, limits], "POST /channels/ch-general/typing": [204], "POST /channels/ch-general/messages": [201, { id: "m-9" }] });
    const r = await render(node, composer(general));
    await r.settle();
    const box = r.$("composer") as HTMLTextAreaElement;
    const counter = r.$("text-limit") as HTMLElement;
    expect(box.hasAttribute("maxlength")).toBe(false);
    expect(counter.getAttribute("aria-live")).toBe("polite");

    await r.fill("composer", "x".repeat(80));
    expect(counter.textContent).toBe("");
    await r.fill("composer", "x".repeat(95));
    expect(counter.textContent).toBe("5 characters left");
    expect(counter.className).not.toContain("text-destructive");
    expect(r.$("send-refused")).toBeNull();

    await r.fill("composer", "x".repeat(123));
    expect(box.value).toHaveLength(123);
    expect(counter.textContent).toBe("−23 characters over the limit");
    expect(counter.className).toContain("text-destructive");
    expect(r.$("send-refused")?.textContent).toBe("Too long to send: 23 characters over the limit of 100.");
    await enter(box);
    await r.settle();
    expect(node.calls.filter((c) => c.startsWith("POST /channels/ch-general/messages"))).toEqual([]);
    expect(box.value).toHaveLength(123);

    await r.fill("composer", "x".repeat(100));
    expect(r.$("send-refused")).toBeNull();
    await enter(box);
    await r.settle();
    expect(node.calls).toContain(`POST /channels/ch-general/messages ${JSON.stringify({ text: "x".repeat(100), mentions: [], everyone: false })}`);
    expect(box.value).toBe("");
  });

  it("refuses to save an edit over the limit, by Enter or the save button", async () => {
    const node = fakeNode({ "GET /limits": [200, limits], "PATCH /messages/m-1": [200, {}] });
    const msg: Message = {
      id: "m-1", channel: general.id, author: ALICE, text: "short", mentions: [], everyone: false,
      created_at: "2026-01-01T10:00:00Z", edited_at: null, reactions: [], state: "sent",
    };
    const onDone = vi.fn();
    const r = await render(node, <EditBox message={msg} members={members} nameOf={() => undefined} onDone={onDone} />);
    await r.settle();
    await r.fill("edit-input", "y".repeat(101));
    expect((r.$("edit-input") as HTMLTextAreaElement).value).toHaveLength(101);
    expect(r.$("text-limit")?.textContent).toBe("−1 character over the limit");
    expect(r.$("save-refused")?.textContent).toContain("Too long to send: 1 character over the limit of 100.");
    await enter(r.$("edit-input") as HTMLElement);
    const save = [...document.querySelectorAll("button")].find((b) => b.textContent === "save") as HTMLElement;
    await r.click(save);
    expect(node.calls.filter((c) => c.startsWith("PATCH"))).toEqual([]);
    expect(onDone).not.toHaveBeenCalled();

    await r.fill("edit-input", "y".repeat(100));
    await r.click(save);
    expect(node.calls).toContain(`PATCH /messages/m-1 ${JSON.stringify({ text: "y".repeat(100), mentions: [], everyone: false })}`);
  });
});
