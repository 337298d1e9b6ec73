// A message's text against the node's limits (GET /limits): the composer
// and the edit box show what is left near the limit and refuse to send
// over it, saying why, instead of cutting the text.

import { useLimits } from "@/api/queries";
import type { Limits } from "@/api/types";
import { characters, characterWord, standing, type TextLimit } from "@/components/limit-counter";
import { draftBody, type Draft } from "./drafts";


export function textLimit(draft: Draft, limits: Pick<Limits, "message_text" | "mentions"> | undefined): TextLimit {
  if (!limits) return { remaining: null, near: false, refusal: null };
  const body = draftBody(draft);
  const { remaining, near } = standing(characters(body.text), limits.message_text);
  const over = -remaining;
  const refusal =
    over > 0
      ? `Too long to send: ${over} ${characterWord(over)} over the limit of ${limits.message_text}.`
      : body.mentions.length > limits.mentions
        ? `Too many mentions to send: at most ${limits.mentions}.`
        : null;
  return { remaining, near, refusal };
}

/** The draft against the node's limits. */
export function useTextLimit(draft: Draft): TextLimit {
  return textLimit(draft, useLimits().data);
}
