// Text against the node's limits (GET /limits): a field shows what is left
// near its limit and refuses over it, saying why, instead of cutting the
// text as it is typed (a maxLength cuts a paste without a word).

import { useLimits } from "@/api/queries";
import type { Limits } from "@/api/types";
import { cn } from "@/lib/utils";

/** The counter shows in the last 1/nearFraction of the limit (from 90 %). */
const nearFraction = 10;

/** How a text stands against a limit; nothing is refused while the limits are unknown. */
export interface TextLimit {
  /** Characters left (negative when over); null while the limit is unknown. */
  remaining: number | null;
  /** Whether the counter shows. */
  near: boolean;
  /** Why the text cannot be sent or saved; null when it can. */
  refusal: string | null;
}

/** Characters as the node counts them: code points, not UTF-16 units. */
export function characters(text: string): number {
  return [...text].length;
}

export const characterWord = (n: number) => (n === 1 ? "character" : "characters");

/** What is left of max after count characters, and whether that is near. */
export function standing(count: number, max: number): { remaining: number; near: boolean } {
  const remaining = max - count;
  return { remaining, near: remaining * nearFraction <= max };
}

/** The limits of GET /limits that bound one text field. */
export type FieldLimitKey = keyof Pick<Limits, "name" | "topic" | "status_text">;

/** One text field (a name, a topic, a status) against its limit. */
export function fieldLimit(text: string, max: number | undefined): TextLimit {
  if (max === undefined) return { remaining: null, near: false, refusal: null };
  const s = standing(characters(text), max);
  const over = -s.remaining;
  return { ...s, refusal: over > 0 ? `Too long: ${over} ${characterWord(over)} over the limit of ${max}.` : null };
}

/** The field's text against the node's limit for key. */
export function useFieldLimit(text: string, key: FieldLimitKey): TextLimit {
  return fieldLimit(text, useLimits().data?.[key]);
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

/** A field's counter and, when it is over, why it cannot be saved (id: for the field's aria-describedby). */
export function FieldLimitNote({ limit, id }: { limit: TextLimit; id: string }) {
  if (!limit.near) return null;
  return (
    <p id={id} className="flex items-center justify-between gap-2 text-xs">
      <span className="text-destructive" data-testid="field-refused">
        {limit.refusal}
      </span>
      <LimitCounter limit={limit} />
    </p>
  );
}
