// The emoji picker (frimousse), styled like shadcn/ui's: a search box, the
// emoji the user picked lately as a quick row, then every emoji by
// category in a virtualized grid. Its Emojibase data is served by the app
// itself at /emojibase/en/*.json (vite.config.ts), never fetched from the
// internet. Callers put it in a Popover.

import { useState } from "react";
import { EmojiPicker as Frimousse, type EmojiPickerListCategoryHeaderProps, type EmojiPickerListEmojiProps, type EmojiPickerListRowProps } from "frimousse";
import { Loader2, Search } from "lucide-react";
import { cn } from "@/lib/utils";

/** Where the picker's Emojibase data is served, by the app. */
export const emojibaseUrl = "/emojibase";

/** Offered in the quick row until the user has picked enough of their own. */
export const quickEmoji = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👀"] as const;

const recentKey = "ancore.emoji.recent";
const recentMax = 8;

/** What the recent emoji need of localStorage. */
export type RecentStorage = Pick<Storage, "getItem" | "setItem">;

function browserStorage(): RecentStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The emoji picked lately, most recent first, at most eight. */
export function recentEmoji(storage: RecentStorage | null = browserStorage()): string[] {
  try {
    const saved: unknown = JSON.parse(storage?.getItem(recentKey) ?? "[]");
    return Array.isArray(saved) ? saved.filter((e): e is string => typeof e === "string").slice(0, recentMax) : [];
  } catch {
    return [];
  }
}

/** Records a pick: it moves to the front of the recent emoji. */
export function rememberEmoji(emoji: string, storage: RecentStorage | null = browserStorage()): void {
  const next = [emoji, ...recentEmoji(storage).filter((e) => e !== emoji)].slice(0, recentMax);
  try {
    storage?.setItem(recentKey, JSON.stringify(next));
  } catch {
    // Not remembered; the quick row shows the defaults.
  }
}

/** The quick row: the recent emoji, then the defaults not among them, eight in all. */
export function quickRow(recent: readonly string[]): string[] {
  return [...recent, ...quickEmoji.filter((e) => !recent.includes(e))].slice(0, recentMax);
}

const emojiButton =
  "flex size-8 items-center justify-center rounded-sm text-xl leading-none focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring";

function PickerRow({ children, ...props }: EmojiPickerListRowProps) {
  return (
    <div {...props} className="scroll-my-1 px-1">
      {children}
    </div>
  );
}

function PickerEmoji({ emoji, className, ...props }: EmojiPickerListEmojiProps) {
  return (
    <button {...props} data-testid="emoji" data-emoji={emoji.emoji} className={cn(emojiButton, "data-[active]:bg-accent", className)}>
      {emoji.emoji}
    </button>
  );
}

function PickerCategoryHeader({ category, ...props }: EmojiPickerListCategoryHeaderProps) {
  return (
    <div {...props} className="bg-popover px-3 pb-1.5 pt-3 text-xs font-medium leading-none text-muted-foreground">
      {category.label}
    </div>
  );
}

const listComponents = { Row: PickerRow, Emoji: PickerEmoji, CategoryHeader: PickerCategoryHeader };

export function EmojiPicker({ onPick, className }: { onPick: (emoji: string) => void; className?: string }) {
  const [search, setSearch] = useState("");
  const [quick] = useState(() => quickRow(recentEmoji()));
  const pick = (emoji: string) => {
    rememberEmoji(emoji);
    onPick(emoji);
  };
  return (
    <Frimousse.Root
      className={cn("isolate flex h-[22rem] w-[19rem] max-w-[calc(100vw-2rem)] flex-col overflow-hidden rounded-md bg-popover text-popover-foreground", className)}
      emojibaseUrl={emojibaseUrl}
      skinTone="none"
      columns={8}
      onEmojiSelect={({ emoji }) => pick(emoji)}
    >
      <div className="flex h-10 shrink-0 items-center gap-2 border-b px-3">
        <Search aria-hidden className="size-4 shrink-0 text-muted-foreground" />
        <Frimousse.Search
          data-testid="emoji-search"
          aria-label="Search emoji"
          placeholder="Search emoji"
          autoFocus
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          className="h-9 w-full bg-transparent text-sm outline-none placeholder:text-muted-foreground"
        />
      </div>
      {search === "" && (
        <div role="group" aria-label="Frequently used" className="shrink-0 border-b px-2 pb-1.5 pt-2">
          <p className="px-1 pb-1 text-xs font-medium text-muted-foreground">Frequently used</p>
          <div className="flex flex-wrap">
            {quick.map((e) => (
              <button key={e} type="button" data-testid="emoji" data-emoji={e} aria-label={e} className={cn(emojiButton, "hover:bg-accent")} onClick={() => pick(e)}>
                {e}
              </button>
            ))}
          </div>
        </div>
      )}
      <Frimousse.Viewport className="relative flex-1 outline-none">
        <Frimousse.Loading className="absolute inset-0 flex items-center justify-center text-muted-foreground">
          <Loader2 aria-label="Loading emoji" className="size-4 animate-spin" />
        </Frimousse.Loading>
        <Frimousse.Empty className="absolute inset-0 flex items-center justify-center text-sm text-muted-foreground">No emoji found.</Frimousse.Empty>
        <Frimousse.List className="select-none pb-1" components={listComponents} />
      </Frimousse.Viewport>
    </Frimousse.Root>
  );
}
