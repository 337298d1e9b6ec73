// @vitest-environment jsdom
import { act } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Channel, Community, Member, Message } from "@/api/types";
import { ReadMarks } from "@/features/readstate/unread";
import { messageRows } from "@/lib/group";
import { roleMentionToken } from "@/lib/markdown";
import { initialChatState } from "@/lib/reducer";
import { cleanupRendered, fakeNode, render, SELF, type Answer } from "@/test/render";
import { canManageMessages, messageActions } from "./actions";
import { messageLink, newMessagesLabel, shortTime } from "./format";
import { MessagePane } from "./message-pane";
import { unreadSummary } from "./new-messages-bar";

const BOB = "b".repeat(52);
const MODS = "bafyreimods";

const channel: Channel = { id: "ch1", community: "c1", name: "general", topic: "", type: "text", position: 0 };
const community = (permissions: Community["my_permissions"] = ["send-messages"]): Community => ({
  id: "c1",
  name: "Test",
  owner: BOB,
  channels: [channel],
  roles: [
    { id: "c1", name: "@everyone", color: 0, permissions: [], position: 0 },
    { id: MODS, name: "Mods", color: 0xff0000, permissions: [], position: 1 },
  ],
  my_permissions: permissions,
  my_roles: [],
  dissolved: false,
  member: true,
  carried: false,
});
const member = (user: string, name: string, roles: string[] = []): Member => ({
  user,
  name,
  state: "joined",
  roles,
  owner: false,
  joined_at: "2026-01-01T00:00:00Z",
  status: "online",
  status_text: "",
});

let seq = 0;
function message(author: string, text: string, extra: Partial<Message> = {}): Message {
  seq++;
  return {
    id: `m${seq}`,
    channel: channel.id,
    author,
    text,
    mentions: [],
    everyone: false,
    created_at: new Date(Date.UTC(2026, 0, 1, 10, seq)).toISOString(),
    edited_at: null,
    reactions: [],
    state: "sent",
    ...extra,
  };
}

describe("the new-messages bar", () => {
  const now = new Date(2026, 11, 7, 18, 0);
  it("says how many and since when", () => {
    const since = new Date(2026, 11, 7, 14, 32);
    expect(newMessagesLabel(3, since, now)).toBe(`3 new messages since ${shortTime(since)}`);
    expect(newMessagesLabel(1, since, now)).toBe(`1 new message since ${shortTime(since)}`);
  });

  it("adds the date when the first unread message is not from today", () => {
    const since = new Date(2026, 11, 5, 9, 5);
    expect(newMessagesLabel(12, since, now)).toBe(`12 new messages since ${shortTime(since)} on ${since.toLocaleDateString(undefined, { dateStyle: "medium" })}`);
  });

  it("counts the messages below the divider that others wrote", () => {
    const read = message(BOB, "read");
    const unread = [message(BOB, "one"), message(SELF, "mine"), message(BOB, "two")];
    const rows = messageRows([read, ...unread], { lastRead: { id: read.id }, self: SELF });
    expect(unreadSummary(rows, SELF)).toEqual({ index: rows.findIndex((r) => r.kind === "unread"), count: 2, since: unread[0]!.created_at });
    expect(unreadSummary(messageRows([read], { lastRead: { id: read.id }, self: SELF }), SELF)).toBeNull();
  });
});

describe("messageActions", () => {
  const all = ["reply", "react", "edit", "delete", "copy-text", "copy-link", "copy-id"];
  it("edits and deletes only one's own messages, deletes others' with manage-messages", () => {
    expect(messageActions({ author: SELF }, SELF, [])).toEqual(all);
    expect(messageActions({ author: BOB }, SELF, ["send-messages"])).toEqual(all.filter((a) => a !== "edit" && a !== "delete"));
    expect(messageActions({ author: BOB }, SELF, ["manage-messages"])).toEqual(all.filter((a) => a !== "edit"));
    expect(canManageMessages(["administrator"])).toBe(true);
  });

  it("links to a message by community, channel and ID", () => {
    expect(messageLink({ id: "c1" }, { channel: "ch1", id: "m9" })).toBe("ancore://message/c1/ch1/m9");
  });
});

describe("MessagePane", () => {
  const height = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientHeight");
  beforeAll(() => {
    // jsdom lays nothing out: give the list a height so rows render, and the primitives what they need.
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.assign(globalThis, {
      DOMRect: { fromRect: (r: Partial<DOMRect> = {}) => ({ x: 0, y: 0, width: 0, height: 0, top: 0, left: 0, right: 0, bottom: 0, ...r }) },
    });
    Element.prototype.scrollTo ??= () => undefined;
    localStorage.setItem("ancore.theme", "light");
  });
  afterAll(() => {
    if (height) Object.defineProperty(HTMLElement.prototype, "clientHeight", height);
  });
  afterEach(cleanupRendered);

  async function pane(messages: Message[], permissions?: Community["my_permissions"], myRoles: string[] = [], more: Record<string, Answer> = {}, onMarkRead?: () => void) {
    const node = fakeNode({
      "GET /communities/c1/members": [200, [member(SELF, "Me", myRoles), member(BOB, "Bob")]],
      "GET /channels/ch1/messages?limit=50": [200, messages],
      ...more,
    });
    const chat = { ...initialChatState, windows: { [channel.id]: { messages, atOldest: true, atNewest: true } } };
    const r = await render(
      node,
      <MessagePane community={community(permissions)} channel={channel} marks={new ReadMarks(null, SELF)} onMarkRead={onMarkRead} />,
      { chat },
    );
    await r.settle();
    const row = (m: Message) => document.querySelector(`[data-testid=message][data-id="${m.id}"]`) as HTMLElement;
    const menuItems = async (m: Message) => {
      await act(async () => void row(m).dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true, clientX: 10, clientY: 10 })));
      const menu = r.$("message-context-menu");
      const items = menu ? [...menu.querySelectorAll("[role=menuitem]")].map((i) => i.textContent?.trim()) : [];
      await act(async () => void document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })));
      return items;
    };
    return { ...r, node, row, menuItems };
  }

  it("offers Edit on one's own messages only, and Delete on others' only with manage-messages", async () => {
    const mine = message(SELF, "mine");
    const bobs = message(BOB, "bob's");
    const copies = ["Copy text", "Copy link", "Copy message ID"];
    let p = await pane([mine, bobs]);
    expect(await p.menuItems(mine)).toEqual(["Reply", "Add reaction", "Edit", "Delete", ...copies]);
    expect(await p.menuItems(bobs)).toEqual(["Reply", "Add reaction", ...copies]);
    cleanupRendered();
    p = await pane([mine, bobs], ["send-messages", "manage-messages"]);
    expect(await p.menuItems(bobs)).toEqual(["Reply", "Add reaction", "Delete", ...copies]);
  });

  it("tints the rows that mention the user, by name, @everyone or a role they hold", async () => {
    const byName = message(BOB, "hi", { mentions: [SELF] });
    const all = message(BOB, "@everyone", { everyone: true });
    const role = message(BOB, `${roleMentionToken(MODS)} look`);
    const other = message(BOB, "nothing for you");
    const p = await pane([byName, all, role, other], undefined, [MODS]);
    expect([byName, all, role, other].map((m) => p.row(m).dataset.mentioned)).toEqual(["true", "true", "true", undefined]);
  });

  it("is a polite log named after the channel", async () => {
    const p = await pane([message(BOB, "hello")]);
    const list = p.$("message-list") as HTMLElement;
    expect([list.getAttribute("role"), list.getAttribute("aria-live"), list.getAttribute("aria-label")]).toEqual(["log", "polite", "Messages in #general"]);
  });

  it("loads the page around a reply's original when it is not loaded, and jumps there", async () => {
    const original = message(BOB, "the original");
    const reply = message(SELF, "a reply", { reply_to: original.id });
    const p = await pane([reply], undefined, [], { [`GET /channels/ch1/messages?around=${original.id}&limit=50`]: [200, [original, reply]] });
    await p.click(p.$("reply-context") as HTMLElement);
    await p.settle();
    expect(p.node.calls).toContain(`GET /channels/ch1/messages?around=${original.id}&limit=50`);
    expect(p.session.dispatch).toHaveBeenCalledWith({ type: "jump", channel: channel.id, page: { around: original.id, limit: 50 }, messages: [original, reply] });
  });

  it("cancels a reply on Esc, and marks the channel read on the next", async () => {
    const onMarkRead = vi.fn();
    const bobs = message(BOB, "hello");
    const p = await pane([bobs], undefined, [], {}, onMarkRead);
    const esc = () => act(async () => void (p.$("composer") as HTMLElement).dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true })));
    await act(async () => void p.row(bobs).dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true })));
    const reply = [...document.querySelectorAll("[role=menuitem]")].find((i) => i.textContent?.trim() === "Reply") as HTMLElement;
    await act(async () => reply.click());
    await act(() => new Promise((r) => setTimeout(r, 10)));
    expect(p.$("replying")).not.toBeNull();
    await esc();
    expect(p.$("replying")).toBeNull();
    expect(onMarkRead).not.toHaveBeenCalled();
    await esc();
    expect(onMarkRead).toHaveBeenCalledOnce();
  });
});
