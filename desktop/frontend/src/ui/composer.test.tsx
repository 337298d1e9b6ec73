// @vitest-environment jsdom
import { act, useState } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mentionToken } from "../lib/markdown";
import { draftBody, emptyDraft, MentionInput, type Draft } from "./composer";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ALICE = "a".repeat(52);
const ALAN = "b".repeat(52);
const members = [
  { user: ALICE, name: "Alice" },
  { user: ALAN, name: "Alan" },
  { user: "c".repeat(52), name: "Bob" },
];

const mounted: Array<() => void> = [];
afterEach(() => {
  mounted.splice(0).forEach((unmount) => unmount());
});

function setup() {
  const keys = vi.fn();
  let draft: Draft = emptyDraft;
  function Harness() {
    const [d, setD] = useState<Draft>(emptyDraft);
    draft = d;
    return <MentionInput data-testid="input" draft={d} onDraft={setD} members={members} onKeyDown={(e) => keys(e.key)} />;
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
  const type = (text: string) =>
    act(() => {
      const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")?.set;
      set?.call(textarea, text);
      textarea.setSelectionRange(text.length, text.length);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
  const press = (key: string) => act(() => void textarea.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true })));
  const options = () => [...container.querySelectorAll("[data-testid=mention-option]")].map((o) => [o.textContent, o.getAttribute("aria-selected")]);
  return { keys, type, press, options, textarea, draft: () => draft };
}

describe("MentionInput", () => {
  it("lists matching members after @ and picks one with the keyboard", () => {
    const t = setup();
    t.type("hi @al");
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

  it("picks with Tab too, and sends the picked name as its token", () => {
    const t = setup();
    t.type("@bo");
    t.press("Tab");
    t.type(t.draft().text + "look");
    expect(draftBody(t.draft())).toEqual({ text: `${mentionToken("c".repeat(52))} look`, mentions: ["c".repeat(52)], everyone: false });
  });

  it("closes on Esc without passing it on, and opens again for the next @", () => {
    const t = setup();
    t.type("@a");
    const esc = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    const outside = vi.fn();
    window.addEventListener("keydown", outside);
    act(() => void t.textarea.dispatchEvent(esc));
    window.removeEventListener("keydown", outside);
    expect(t.options()).toEqual([]);
    expect(outside).not.toHaveBeenCalled();
    expect(t.keys).not.toHaveBeenCalled();
    t.type("@al");
    expect(t.options()).toEqual([]);
    t.type("@al @b");
    expect(t.options()).toEqual([["@Bob", "true"]]);
  });

  it("passes keys on when no list is open", () => {
    const t = setup();
    t.type("hello");
    t.press("Enter");
    t.type("@zz");
    t.press("Enter");
    expect(t.keys.mock.calls).toEqual([["Enter"], ["Enter"]]);
  });
});
