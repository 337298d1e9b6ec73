// One message in the list: the author's avatar and name on the first
// message of a group (their profile on a click), hover timestamps, the
// reply it answers, its text (or the edit box), reactions and, on hover or
// focus, its toolbar. A mention of the local user tints the whole row.
// Rows are memoized: what all rows share comes through MessageRowContext,
// so a row renders again only when its own message or state changes.

import { createContext, memo, useContext, useState, type ReactNode } from "react";
import { CornerUpLeft, MoreHorizontal, Pencil, SmilePlus, Trash2 } from "lucide-react";
import type { Community, ID, Key, Message } from "@/api/types";
import { EmojiPicker } from "@/components/emoji-picker";
import { Button } from "@/components/ui/button";
import { DropdownMenu, DropdownMenuContent, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { useAvatar } from "@/api/queries";
import { UserAvatar } from "@/components/user-avatar";
import { EditBox } from "@/features/composer/edit-box";
import { Markdown } from "@/lib/markdown";
import { decodeMentions, mentionsMe, type Mentionable, type MentionableRole } from "@/lib/mentions";
import { cn } from "@/lib/utils";
import { ProfilePopover } from "@/features/members/profile-popover";
import { messageActions, type MessageAction } from "./actions";
import { fullDate, headerTime, shortTime } from "./format";
import { MenuItems, useMenuAct } from "./message-menu";

/** What every row needs, the same object while none of it changes. */
export interface MessageRowContext {
  community: Community;
  self: Key;
  /** The roles the local user holds: a mention of one tints the row. */
  myRoles: readonly ID[];
  nameOf: (user: Key) => string | undefined;
  avatarOf: (user: Key) => string | undefined;
  roleOf: (id: ID) => { name: string; color: number } | undefined;
  /** The author's name colour, readable in the theme; undefined for the default. */
  nameColorOf: (user: Key) => string | undefined;
  members: readonly Mentionable[];
  roles: readonly MentionableRole[];
  /** Runs a menu or toolbar action on a message. */
  act: (action: MessageAction, message: Message, how?: { emoji?: string }) => void;
  /** Toggles the user's reaction. */
  react: (message: Message, emoji: string, on: boolean) => void;
  /** Shows the original of a reply. */
  jumpTo: (id: ID) => void;
  setEditing: (id: ID | null) => void;
  setPicking: (id: ID | null) => void;
}

export const RowContext = createContext<MessageRowContext | null>(null);

function useRowContext(): MessageRowContext {
  const c = useContext(RowContext);
  if (c === null) throw new Error("MessageRow outside RowContext");
  return c;
}

/** Whether the element got the focus from the keyboard: a click into a row does not show its toolbar. */
function focusVisible(el: Element): boolean {
  try {
    return el.matches(":focus-visible");
  } catch {
    return true; // a browser without :focus-visible
  }
}

/** A name for someone whose profile is unknown here: the start of their key. */
export function shortKey(user: Key): string {
  return user.slice(0, 8);
}

export const MessageRow = memo(function MessageRow({ message, first, replied, editing, picking, highlighted }: {
  message: Message;
  /** The first message of a group: it shows its author. */
  first: boolean;
  /** The message this one replies to, when it is loaded. */
  replied: Message | undefined;
  editing: boolean;
  picking: boolean;
  highlighted: boolean;
}) {
  const ctx = useRowContext();
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const [menu, setMenu] = useState(false);
  const { community, self, nameOf, avatarOf } = ctx;
  const time = new Date(message.created_at);
  const name = nameOf(message.author) ?? shortKey(message.author);
  // Only a group's first row shows the avatar.
  const picture = useAvatar(first ? avatarOf(message.author) : undefined, { community: community.id, user: message.author });
  const mentioned = mentionsMe(message, self, ctx.myRoles);
  const showTools = (hovered || focused || picking || menu) && !editing;
  return (
    <div
      data-testid="message"
      data-id={message.id}
      data-mentioned={mentioned ? "true" : undefined}
      tabIndex={0}
      role="article"
      aria-label={`${name}, ${headerTime(time)}`}
      className={cn(
        "group relative flex gap-4 py-0.5 pl-4 pr-12 transition-colors focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-ring",
        first && "mt-3",
        // On the tint, muted text takes the tint's own foreground to keep its contrast.
        mentioned
          ? "border-l-2 border-warning bg-mention pl-[14px] [&_.text-muted-foreground]:text-mention-foreground"
          : "hover:bg-accent/50 focus-within:bg-accent/50",
        highlighted && "bg-accent",
      )}
      onPointerEnter={() => setHovered(true)}
      onPointerLeave={() => setHovered(false)}
      onFocus={(e) => setFocused(focusVisible(e.target))}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
    >
      <div className="flex w-10 shrink-0 justify-center">
        {first ? (
          <ProfilePopover community={community} user={message.author}>
            <button type="button" aria-label={`${name}'s profile`} className="mt-0.5 rounded-full focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
              <UserAvatar user={message.author} name={name} picture={picture} />
            </button>
          </ProfilePopover>
        ) : (
          <time dateTime={message.created_at} className="invisible whitespace-nowrap pt-1 text-[11px] leading-5 text-muted-foreground group-hover:visible group-focus-within:visible">
            {shortTime(time)}
          </time>
        )}
      </div>
      <div className="min-w-0 flex-1">
        {message.reply_to && <ReplyContext id={message.reply_to} replied={replied} />}
        {first && (
          <p className="flex items-baseline gap-2">
            <ProfilePopover community={community} user={message.author}>
              <button
                type="button"
                className="truncate font-semibold text-foreground hover:underline focus-visible:underline focus-visible:outline-none"
                style={{ color: ctx.nameColorOf(message.author) }}
              >
                {name}
              </button>
            </ProfilePopover>
            <Tooltip>
              <TooltipTrigger asChild>
                <time dateTime={message.created_at} className="shrink-0 text-xs text-muted-foreground">
                  {headerTime(time)}
                </time>
              </TooltipTrigger>
              <TooltipContent>{fullDate(time)}</TooltipContent>
            </Tooltip>
          </p>
        )}
        {editing ? (
          <EditBox
            message={message}
            members={ctx.members}
            roles={ctx.roles}
            nameOf={nameOf}
            roleNameOf={(id) => ctx.roleOf(id)?.name}
            onDone={() => ctx.setEditing(null)}
          />
        ) : (
          <MessageText message={message} nameOf={nameOf} self={self} roleOf={ctx.roleOf} />
        )}
        {message.reactions.length > 0 && <Reactions message={message} />}
      </div>
      {showTools && <Toolbar message={message} picking={picking} onMenu={setMenu} />}
    </div>
  );
});

/** The text, its (edited) marker and its pending state; the same element while the text is. */
const MessageText = memo(function MessageText({ message, nameOf, self, roleOf }: {
  message: Message;
  nameOf: (user: Key) => string | undefined;
  self: Key;
  roleOf: (id: ID) => { name: string; color: number } | undefined;
}) {
  const pending = message.state === "pending";
  return (
    // A text ending in a paragraph keeps its markers on that paragraph's last line.
    <div className={cn("break-words leading-relaxed [&>div>p:last-child]:inline", pending && "text-muted-foreground")}>
      <div data-testid="message-text" className="contents">
        <Markdown text={message.text} nameOf={nameOf} self={self} roleOf={roleOf} />
      </div>
      {message.edited_at && (
        <Tooltip>
          <TooltipTrigger asChild>
            <span data-testid="edited" className="ml-1 text-[11px] text-muted-foreground">
              (edited)
            </span>
          </TooltipTrigger>
          <TooltipContent>{fullDate(new Date(message.edited_at))}</TooltipContent>
        </Tooltip>
      )}
      {pending && (
        <Tooltip>
          <TooltipTrigger asChild>
            <span className="ml-1 text-[11px] text-warning">(pending)</span>
          </TooltipTrigger>
          <TooltipContent>No peer has it yet; it is sent as soon as one is reachable</TooltipContent>
        </Tooltip>
      )}
    </div>
  );
});

/** The quoted line above a reply; a click shows the original. */
function ReplyContext({ id, replied }: { id: ID; replied: Message | undefined }) {
  const { nameOf, roleOf, jumpTo } = useRowContext();
  const text = replied ? decodeMentions(replied.text, nameOf, (r) => roleOf(r)?.name).text : null;
  return (
    <button
      type="button"
      data-testid="reply-context"
      className="flex max-w-full items-center gap-1 truncate text-xs text-muted-foreground hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
      onClick={() => jumpTo(id)}
    >
      <CornerUpLeft aria-hidden className="h-3 w-3 shrink-0" />
      {replied ? (
        <>
          <span className="font-semibold">@{nameOf(replied.author) ?? shortKey(replied.author)}</span>
          <span className="truncate">{text}</span>
        </>
      ) : (
        <span className="italic">Click to see the original message</span>
      )}
    </button>
  );
}

function Reactions({ message }: { message: Message }) {
  const { self, nameOf, react } = useRowContext();
  return (
    <div className="mt-1 flex flex-wrap gap-1">
      {message.reactions.map((r) => {
        const on = r.users.includes(self);
        const who = r.users.map((u) => (u === self ? "you" : (nameOf(u) ?? shortKey(u))));
        return (
          <Tooltip key={r.emoji}>
            <TooltipTrigger asChild>
              <button
                type="button"
                data-testid="reaction"
                data-emoji={r.emoji}
                aria-pressed={on}
                aria-label={`${r.emoji} ${r.users.length}, by ${who.join(", ")}`}
                onClick={() => react(message, r.emoji, !on)}
                className={cn(
                  "flex h-6 items-center gap-1 rounded-md border px-1.5 text-xs font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                  on ? "border-primary bg-primary/10 text-foreground" : "border-border bg-muted text-muted-foreground hover:border-input",
                )}
              >
                <span className="text-sm leading-none">{r.emoji}</span>
                {r.users.length}
              </button>
            </TooltipTrigger>
            <TooltipContent>
              {who.join(", ")} reacted with {r.emoji}
            </TooltipContent>
          </Tooltip>
        );
      })}
    </div>
  );
}

function ToolButton({ label, children, ...props }: { label: string; children: ReactNode } & React.ComponentProps<typeof Button>) {
  return (
    <Tooltip>
      <TooltipTrigger asChild>
        <Button variant="ghost" size="icon-sm" aria-label={label} {...props}>
          {children}
        </Button>
      </TooltipTrigger>
      <TooltipContent>{label}</TooltipContent>
    </Tooltip>
  );
}

/** The hover toolbar: react, reply, edit, delete and the "More" menu. */
function Toolbar({ message, picking, onMenu }: { message: Message; picking: boolean; onMenu: (open: boolean) => void }) {
  const ctx = useRowContext();
  const actions = messageActions(message, ctx.self, ctx.community.my_permissions);
  const { menuAct, onCloseAutoFocus } = useMenuAct(ctx.act);
  return (
    <div role="toolbar" aria-label="Message actions" className="absolute -top-4 right-4 z-10 flex rounded-md border bg-popover p-0.5 text-popover-foreground shadow-sm">
      <Popover open={picking} onOpenChange={(open) => ctx.setPicking(open ? message.id : null)}>
        <Tooltip>
          <TooltipTrigger asChild>
            <PopoverTrigger asChild>
              <Button variant="ghost" size="icon-sm" aria-label="Add reaction" data-testid="message-react">
                <SmilePlus aria-hidden />
              </Button>
            </PopoverTrigger>
          </TooltipTrigger>
          <TooltipContent>Add reaction</TooltipContent>
        </Tooltip>
        <PopoverContent side="left" align="start" className="w-auto p-0">
          <EmojiPicker
            onPick={(emoji) => {
              ctx.react(message, emoji, true);
              ctx.setPicking(null);
            }}
          />
        </PopoverContent>
      </Popover>
      <ToolButton label="Reply" data-testid="message-reply" onClick={() => ctx.act("reply", message)}>
        <CornerUpLeft aria-hidden />
      </ToolButton>
      {actions.includes("edit") && (
        <ToolButton label="Edit" data-testid="message-edit" onClick={() => ctx.act("edit", message)}>
          <Pencil aria-hidden />
        </ToolButton>
      )}
      {actions.includes("delete") && (
        <ToolButton label="Delete" data-testid="message-delete" className="text-destructive hover:text-destructive" onClick={() => ctx.act("delete", message)}>
          <Trash2 aria-hidden />
        </ToolButton>
      )}
      <DropdownMenu onOpenChange={onMenu}>
        <Tooltip>
          <TooltipTrigger asChild>
            <DropdownMenuTrigger asChild>
              <Button variant="ghost" size="icon-sm" aria-label="More" data-testid="message-more">
                <MoreHorizontal aria-hidden />
              </Button>
            </DropdownMenuTrigger>
          </TooltipTrigger>
          <TooltipContent>More</TooltipContent>
        </Tooltip>
        <DropdownMenuContent align="end" className="w-52" data-testid="message-more-menu" onCloseAutoFocus={onCloseAutoFocus}>
          <MenuItems kind="dropdown" message={message} actions={actions} act={menuAct} />
        </DropdownMenuContent>
      </DropdownMenu>
    </div>
  );
}
