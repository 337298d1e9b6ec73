// A message's text against the node's limits (GET /limits): the composer
// and the edit box show what is left near the limit and refuse to send
// over it, saying why, instead of cutting the text.

import { useLimits } from "@/api/queries";
import type { Limits } from "@/api/types";
import { cn } from "@/lib/utils";
import { draftBody, type Draft } from "./drafts";

/** The counter shows in the last 1/nearFraction of the limit (from 90 %). */
const nearFraction = 10;

/** How a draft stands against the limits; nothing is refused while they are unknown. */
export interface TextLimit {
  /** Characters left in the text as sent (mention tokens included); negative when over. */
  remaining: number | null;
  /** Whether the counter shows. */
  near: boolean;
  /** Why the draft cannot be sent; null when it can. */
  refusal: string | null;
}

/** Characters as the node counts them: code points, not UTF-16 units. */
function characters(text: string): number {
  return [...text].length;
}

const characterWord = (n: number) => (n === 1 ? "character" : "characters");

export function textLimit(draft: Draft, limits: Pick<Limits, "message_text" | "mentions"> | undefined): TextLimit {
  if (!limits) return { remaining: null, near: false, refusal: null };
  const body = draftBody(draft);
  const remaining = limits.message_text - characters(body.text);
  const over = -remaining;
  const refusal =
    over > 0
      ? `Too long to send: ${over} ${characterWord(over)} over the limit of ${limits.message_text}.`
      : body.mentions.length > limits.mentions
        ? `Too many mentions to send: at most ${limits.mentions}.`
        : null;
  return { remaining, near: remaining * nearFraction <= limits.message_text, refusal };
}

/** The draft against the node's limits. */
export function useTextLimit(draft: Draft): TextLimit {
  return textLimit(draft, useLimits().data);
}

/** What is left ("350"), or how far over ("−123"), once the text nears the limit; read out politely. */
export function LimitCounter({ limit, className }: { limit: TextLimit; className?: string }) {
  const { remaining, near } = limit;
  const over = remaining !== null && remaining < 0;
  return (
    <span
      data-testid="text-limit"
      aria-live="polite"
      className={cn("shrink-0 text-xs tabular-nums", over ? "font-semibold text-destructive" : "text-muted-foreground", className)}
    >
      {near && remaining !== null && (
        <>
          {over ? `−${-remaining}` : remaining}
          <span className="sr-only">{` ${characterWord(Math.abs(remaining))} ${over ? "over the limit" : "left"}`}</span>
        </>
      )}
    </span>
  );
}
