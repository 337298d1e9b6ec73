// A message's text being written, and the per-channel drafts that keep it
// when the user switches channels or reloads: what the box shows, what its
// "@Name"s stand for and the message it replies to, in sessionStorage
// under ancore.draft.<channel> (a tab's own, gone with the tab).

import type { ID, Key } from "@/api/types";
import { decodeMentions, encodeMentions, mentionFields, type Picked } from "@/lib/mentions";

/** A message's text being written: what the box shows and what its "@Name"s stand for. */
export interface Draft {
  text: string;
  picked: readonly Picked[];
}

export const emptyDraft: Draft = { text: "", picked: [] };

/** A sent text as a draft to edit: its mention tokens shown as "@Name". */
export function draftOf(text: string, nameOf: (user: Key) => string | undefined, roleNameOf?: (role: ID) => string | undefined): Draft {
  return decodeMentions(text, nameOf, roleNameOf);
}

/** What a draft sends: the text with tokens, and whom it mentions. */
export function draftBody(draft: Draft): { text: string; mentions: string[]; everyone: boolean } {
  const text = encodeMentions(draft.text.trim(), draft.picked);
  return { text, ...mentionFields(text) };
}

/** A channel's unsent message: the draft and the message it replies to. */
export interface SavedDraft extends Draft {
  replyTo: ID | null;
}

/** What the drafts need of sessionStorage. */
export type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export function draftKey(channel: ID): string {
  return `ancore.draft.${channel}`;
}

export function browserDrafts(): DraftStorage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function isPicked(v: unknown): v is Picked {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.name === "string" && (typeof p.user === "string" || typeof p.role === "string");
}

/** The channel's saved draft; null when there is none (or it is unreadable). */
export function loadDraft(storage: DraftStorage | null, channel: ID): SavedDraft | null {
  let saved: unknown;
  try {
    saved = JSON.parse(storage?.getItem(draftKey(channel)) ?? "null");
  } catch {
    return null;
  }
  if (typeof saved !== "object" || saved === null) return null;
  const { text, picked, replyTo } = saved as Record<string, unknown>;
  if (typeof text !== "string") return null;
  return {
    text,
    picked: Array.isArray(picked) ? picked.filter(isPicked) : [],
    replyTo: typeof replyTo === "string" ? replyTo : null,
  };
}

/** Keeps the channel's draft; an empty one (no text, no reply) is removed. Storage that fails keeps nothing. */
export function saveDraft(storage: DraftStorage | null, channel: ID, draft: SavedDraft): void {
  try {
    if (draft.text === "" && draft.replyTo === null) storage?.removeItem(draftKey(channel));
    else storage?.setItem(draftKey(channel), JSON.stringify({ text: draft.text, picked: draft.picked, replyTo: draft.replyTo }));
  } catch {
    // Full or disabled: the draft lives as long as the composer.
  }
}
