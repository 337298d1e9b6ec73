// The bar over the top of the list while the unread divider is scrolled
// out of view above: "N new messages since 14:32", with Jump (to the
// divider) and Mark as read.

import { Check } from "lucide-react";
import type { Key, Timestamp } from "@/api/types";
import type { Row } from "@/lib/group";
import { newMessagesLabel } from "./format";

/** Where the divider is among the rows, how many unread messages are below it and since when. */
export interface UnreadSummary {
  index: number;
  count: number;
  since: Timestamp;
}

/** The unread messages of the rows: those below the divider not written by the local user; null without a divider. */
export function unreadSummary(rows: readonly Row[], self: Key): UnreadSummary | null {
  const index = rows.findIndex((r) => r.kind === "unread");
  if (index < 0) return null;
  let count = 0;
  let since: Timestamp | null = null;
  for (let i = index + 1; i < rows.length; i++) {
    const r = rows[i] as Row;
    if (r.kind !== "message" || r.message.author === self) continue;
    since ??= r.message.created_at;
    count++;
  }
  return since === null ? null : { index, count, since };
}

export function NewMessagesBar({ summary, onJump, onMarkRead }: { summary: UnreadSummary; onJump: () => void; onMarkRead: () => void }) {
  return (
    <div
      data-testid="new-messages-bar"
      className="absolute inset-x-4 top-0 z-20 flex items-center gap-2 rounded-b-md bg-primary px-3 py-1 text-xs font-medium text-primary-foreground shadow-md"
    >
      <button type="button" className="min-w-0 flex-1 truncate text-left hover:underline focus-visible:underline focus-visible:outline-none" onClick={onJump}>
        {newMessagesLabel(summary.count, new Date(summary.since))}
      </button>
      <button type="button" className="shrink-0 hover:underline focus-visible:underline focus-visible:outline-none" onClick={onJump}>
        Jump
      </button>
      <span aria-hidden>·</span>
      <button
        type="button"
        data-testid="mark-read"
        className="flex shrink-0 items-center gap-1 hover:underline focus-visible:underline focus-visible:outline-none"
        onClick={onMarkRead}
      >
        Mark as read <Check aria-hidden className="h-3.5 w-3.5" />
      </button>
    </div>
  );
}
