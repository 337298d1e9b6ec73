// The textarea of the composer and the edit box, with completion lists:
// "@letters" offers members, roles and @everyone (src/lib/mentions.ts),
// ":letters" offers emoji by shortcode (./shortcodes.ts). ↑/↓ choose, Tab
// or Enter pick, Esc closes the list; other keys go to onKeyDown.

import { forwardRef, useEffect, useId, useImperativeHandle, useLayoutEffect, useRef, useState, type KeyboardEvent, type TextareaHTMLAttributes } from "react";
import { insertMention, matchMembers, mentionQuery, maxSuggestions, type Mentionable, type MentionableRole, type Picked } from "@/lib/mentions";
import { cn } from "@/lib/utils";
import type { Draft } from "./drafts";
import { insertEmoji, loadShortcodes, matchShortcodes, replaceShortcode, shortcodeQuery, type ShortcodeIndex, type ShortcodeSource } from "./shortcodes";

type TextareaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "value" | "onChange" | "onKeyDown">;

/** What the composer does to the box from outside: focus it, type at the caret. */
export interface MentionInputHandle {
  focus: () => void;
  /** Puts text where the caret is (replacing a selection) and the caret after it. */
  insert: (text: string) => void;
}

type Candidate =
  | { kind: "member"; name: string; who: Mentionable }
  | { kind: "role"; name: string; who: MentionableRole }
  | { kind: "everyone"; name: "everyone" };

type Option = Candidate | { kind: "emoji"; name: string; emoji: string };

const everyone: Candidate = { kind: "everyone", name: "everyone" };

function optionKey(o: Option): string {
  switch (o.kind) {
    case "member":
      return `u:${o.who.user}`;
    case "role":
      return `r:${o.who.role}`;
    case "everyone":
      return "everyone";
    case "emoji":
      return `e:${o.name}`;
  }
}

function samePick(a: Picked, b: Picked): boolean {
  return "role" in a ? "role" in b && a.role === b.role : "user" in b && a.user === b.user;
}

export const MentionInput = forwardRef<MentionInputHandle, TextareaProps & {
  draft: Draft;
  onDraft: (d: Draft) => void;
  members: readonly Mentionable[];
  /** The community's roles to offer (not @everyone). */
  roles?: readonly MentionableRole[];
  /** Offer @everyone. */
  offerEveryone?: boolean;
  /** Where the shortcodes come from (tests give their own). */
  shortcodes?: ShortcodeSource;
  onKeyDown?: (e: KeyboardEvent<HTMLTextAreaElement>) => void;
}>(function MentionInput({ draft, onDraft, members, roles = [], offerEveryone = false, shortcodes = loadShortcodes, onKeyDown, className, ...props }, handle) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [caret, setCaret] = useState(draft.text.length);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [index, setIndex] = useState<ShortcodeIndex | null>(null);
  const [focused, setFocused] = useState(false);
  const pendingCaret = useRef<number | null>(null);
  const latest = useRef({ draft, onDraft });
  latest.current = { draft, onDraft };

  const mention = mentionQuery(draft.text, caret);
  const emojiQuery = mention ? null : shortcodeQuery(draft.text, caret);
  const query = mention ?? emojiQuery;
  let options: Option[] = [];
  if (mention) {
    const candidates: Candidate[] = [
      ...members.map((who): Candidate => ({ kind: "member", name: who.name, who })),
      ...roles.map((who): Candidate => ({ kind: "role", name: who.name, who })),
      ...(offerEveryone ? [everyone] : []),
    ];
    options = matchMembers(candidates, mention.query).slice(0, maxSuggestions);
  } else if (emojiQuery && index) {
    options = matchShortcodes(index, emojiQuery.query).map((s) => ({ kind: "emoji", name: s.code, emoji: s.emoji }));
  }
  const open = focused && query !== null && options.length > 0 && dismissed !== query.start;
  const chosen = Math.min(active, options.length - 1);

  // The shortcodes load when the first ":letters" is typed.
  const wantShortcodes = emojiQuery !== null || draft.text.includes(":");
  useEffect(() => {
    if (!wantShortcodes || index) return;
    let live = true;
    shortcodes().then(
      (loaded) => live && setIndex(loaded),
      () => undefined, // no completion; typing goes on
    );
    return () => {
      live = false;
    };
  }, [wantShortcodes, index, shortcodes]);

  useLayoutEffect(() => {
    const at = pendingCaret.current;
    if (at === null || !ref.current) return;
    pendingCaret.current = null;
    ref.current.setSelectionRange(at, at);
  });

  const setText = (text: string, at: number, picked = draft.picked) => {
    pendingCaret.current = at;
    setCaret(at);
    onDraft({ text, picked });
  };

  useImperativeHandle(handle, () => ({
    focus: () => ref.current?.focus(),
    insert: (text: string) => {
      const el = ref.current;
      const { draft: d, onDraft: set } = latest.current;
      const start = el?.selectionStart ?? d.text.length;
      const end = el?.selectionEnd ?? start;
      const at = start + text.length;
      pendingCaret.current = at;
      setCaret(at);
      set({ ...d, text: d.text.slice(0, start) + text + d.text.slice(end) });
      el?.focus();
    },
  }), []);

  const pick = (o: Option) => {
    if (!query) return;
    if (o.kind === "emoji") {
      const next = insertEmoji(draft.text, query, o.emoji);
      setText(next.text, next.caret);
      return;
    }
    const next = insertMention(draft.text, query, o);
    const picked: readonly Picked[] =
      o.kind === "everyone" || draft.picked.some((p) => samePick(p, o.who)) ? draft.picked : [...draft.picked, o.who];
    setText(next.text, next.caret, picked);
  };

  const emoji = query === emojiQuery;
  const optionId = (i: number) => `${listId}-${i}`;
  return (
    <div className="relative min-w-0 flex-1">
      {open && (
        <ul
          id={listId}
          role="listbox"
          aria-label={emoji ? "Emoji" : "Members and roles to mention"}
          data-testid={emoji ? "shortcode-list" : "mention-list"}
          className="absolute bottom-full left-0 z-20 mb-2 w-72 max-w-[calc(100vw-2rem)] overflow-hidden rounded-md border bg-popover py-1 text-popover-foreground shadow-md"
        >
          {options.map((o, i) => (
            <li
              key={optionKey(o)}
              id={optionId(i)}
              role="option"
              aria-selected={i === chosen}
              data-testid={o.kind === "emoji" ? "shortcode-option" : "mention-option"}
              data-user={o.kind === "member" ? o.who.user : undefined}
              data-role={o.kind === "role" ? o.who.role : undefined}
              data-emoji={o.kind === "emoji" ? o.emoji : undefined}
              className={cn("flex cursor-pointer items-center gap-2 truncate px-3 py-1", i === chosen ? "bg-accent text-accent-foreground" : "hover:bg-accent/60")}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the textarea
                pick(o);
              }}
            >
              {o.kind === "emoji" ? (
                <>
                  <span aria-hidden className="text-lg leading-none">{o.emoji}</span>:{o.name}:
                </>
              ) : o.kind === "role" ? (
                <>
                  @{o.name}
                  <span className="ml-auto text-xs text-muted-foreground">role</span>
                </>
              ) : (
                `@${o.name}`
              )}
            </li>
          ))}
        </ul>
      )}
      <textarea
        {...props}
        ref={ref}
        value={draft.text}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? optionId(chosen) : undefined}
        className={cn("block w-full resize-none bg-transparent outline-none placeholder:text-muted-foreground", className)}
        onChange={(e) => {
          const at = e.target.selectionStart;
          setActive(0);
          const replaced = index ? replaceShortcode(e.target.value, at, index) : null;
          if (replaced) setText(replaced.text, replaced.caret);
          else {
            setCaret(at);
            onDraft({ ...draft, text: e.target.value });
          }
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onFocus={(e) => {
          setFocused(true);
          props.onFocus?.(e);
        }}
        onBlur={(e) => {
          setFocused(false);
          props.onBlur?.(e);
        }}
        onKeyDown={(e) => {
          if (open && query) {
            const n = options.length;
            if (e.key === "ArrowDown" || e.key === "ArrowUp") {
              e.preventDefault();
              setActive((chosen + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
              return;
            }
            if ((e.key === "Tab" || e.key === "Enter") && !e.shiftKey) {
              e.preventDefault();
              pick(options[chosen] as Option);
              return;
            }
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation(); // closes the list, not the dialog or the edit around it
              setDismissed(query.start);
              return;
            }
          }
          onKeyDown?.(e);
        }}
      />
    </div>
  );
});
