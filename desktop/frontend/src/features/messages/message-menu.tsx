// A message's menu items, the same in its right-click context menu and in
// its toolbar's "More" menu: Reply, Add reaction ▸ (quick emoji, More…),
// Edit, Delete, Copy text, Copy link, Copy message ID.

import { useCallback, useRef } from "react";
import { Copy, CornerUpLeft, Hash, Link, Pencil, SmilePlus, Trash2 } from "lucide-react";
import type { Message } from "@/api/types";
import { quickRow, recentEmoji } from "@/components/emoji-picker";
import {
  ContextMenuItem,
  ContextMenuSeparator,
  ContextMenuSub,
  ContextMenuSubContent,
  ContextMenuSubTrigger,
} from "@/components/ui/context-menu";
import {
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuSub,
  DropdownMenuSubContent,
  DropdownMenuSubTrigger,
} from "@/components/ui/dropdown-menu";
import type { MessageAction } from "./actions";

export type MenuKind = "context" | "dropdown";

const parts = {
  context: { Item: ContextMenuItem, Separator: ContextMenuSeparator, Sub: ContextMenuSub, SubTrigger: ContextMenuSubTrigger, SubContent: ContextMenuSubContent },
  dropdown: { Item: DropdownMenuItem, Separator: DropdownMenuSeparator, Sub: DropdownMenuSub, SubTrigger: DropdownMenuSubTrigger, SubContent: DropdownMenuSubContent },
} as const;

export type Act = (action: MessageAction, message: Message, how?: { emoji?: string }) => void;

/**
 * A menu's actions, and its onCloseAutoFocus. An action that puts the
 * focus somewhere (the composer for a reply, the edit box, the picker, the
 * dialog) runs once the menu has closed — while open, the menu holds the
 * focus — and the menu then leaves the focus where the action put it.
 */
export function useMenuAct(act: Act): { menuAct: Act; onCloseAutoFocus: (e: Event) => void } {
  const focusMoves = useRef(false);
  const menuAct = useCallback<Act>(
    (action, message, how) => {
      const moves = action === "reply" || action === "edit" || action === "delete" || (action === "react" && !how?.emoji);
      if (!moves) return act(action, message, how);
      focusMoves.current = true;
      window.setTimeout(() => act(action, message, how), 0);
    },
    [act],
  );
  const onCloseAutoFocus = useCallback((e: Event) => {
    if (focusMoves.current) e.preventDefault();
    focusMoves.current = false;
  }, []);
  return { menuAct, onCloseAutoFocus };
}

export function MenuItems({ kind, message, actions, act }: { kind: MenuKind; message: Message; actions: readonly MessageAction[]; act: Act }) {
  const { Item, Separator, Sub, SubTrigger, SubContent } = parts[kind];
  const has = (a: MessageAction) => actions.includes(a);
  return (
    <>
      {has("reply") && (
        <Item onSelect={() => act("reply", message)}>
          <CornerUpLeft aria-hidden /> Reply
        </Item>
      )}
      {has("react") && (
        <Sub>
          <SubTrigger>
            <SmilePlus aria-hidden /> Add reaction
          </SubTrigger>
          <SubContent className="min-w-0">
            <div role="group" aria-label="Quick reactions" className="grid grid-cols-4 gap-0.5">
              {quickRow(recentEmoji()).map((emoji) => (
                <Item key={emoji} aria-label={`React with ${emoji}`} className="justify-center text-lg" onSelect={() => act("react", message, { emoji })}>
                  {emoji}
                </Item>
              ))}
            </div>
            <Separator />
            <Item onSelect={() => act("react", message)}>More…</Item>
          </SubContent>
        </Sub>
      )}
      {has("edit") && (
        <Item onSelect={() => act("edit", message)}>
          <Pencil aria-hidden /> Edit
        </Item>
      )}
      {has("delete") && (
        <Item destructive onSelect={() => act("delete", message)}>
          <Trash2 aria-hidden /> Delete
        </Item>
      )}
      <Separator />
      {has("copy-text") && (
        <Item onSelect={() => act("copy-text", message)}>
          <Copy aria-hidden /> Copy text
        </Item>
      )}
      {has("copy-link") && (
        <Item onSelect={() => act("copy-link", message)}>
          <Link aria-hidden /> Copy link
        </Item>
      )}
      {has("copy-id") && (
        <Item onSelect={() => act("copy-id", message)}>
          <Hash aria-hidden /> Copy message ID
        </Item>
      )}
    </>
  );
}
