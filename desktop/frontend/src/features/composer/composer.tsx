// The composer under the message list: Enter sends, Shift+Enter breaks
// the line, ↑ in an empty box edits the user's last message; the reply
// bar, the emoji button, who is typing, and a retry when a send fails.
// The unsent text (with its mentions and the reply) is the channel's
// draft (./drafts.ts), kept across channel switches and reloads.

import { useEffect, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Smile, X } from "lucide-react";
import { data } from "@/api/client";
import type { Channel, ID, Key, Message } from "@/api/types";
import { useSession } from "@/app/session";
import { EmojiPicker } from "@/components/emoji-picker";
import { Button } from "@/components/ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { errorText } from "@/lib/errors";
import type { Mentionable, MentionableRole } from "@/lib/mentions";
import { typingIn } from "@/lib/reducer";
import { browserDrafts, draftBody, draftOf, emptyDraft, loadDraft, saveDraft, type Draft, type DraftStorage } from "./drafts";
import { MentionInput, type MentionInputHandle } from "./mention-input";
import type { ShortcodeSource } from "./shortcodes";
import { LimitCounter } from "@/components/limit-counter";
import { useTextLimit } from "./text-limit";

/** The message being replied to: its ID, and its author's name when it is loaded. */
export interface ReplyTarget {
  id: ID;
  name: string | null;
}

/** "Bob is typing…", "Bob and Eve are typing…", "Several people are typing…"; "" for nobody. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

/** How often a typing signal is repeated while the user types; the node's lasts 8 s. */
const typingEveryMs = 3000;

export function Composer({ channel, members, roles, nameOf, roleNameOf, lastOwn, reply, onReplyDone, drafts = browserDrafts(), shortcodes }: {
  channel: Channel;
  members: readonly Mentionable[];
  roles?: readonly MentionableRole[];
  nameOf: (u: Key) => string | undefined;
  roleNameOf?: (role: ID) => string | undefined;
  lastOwn: Message | null;
  reply: ReplyTarget | null;
  onReplyDone: () => void;
  /** Where drafts are kept; sessionStorage by default. */
  drafts?: DraftStorage | null;
  shortcodes?: ShortcodeSource;
}) {
  const { api, chat, self } = useSession();
  const [draft, setDraft] = useState<Draft>(() => loadDraft(drafts, channel.id) ?? emptyDraft);
  const [editing, setEditing] = useState<Message | null>(null);
  const [picker, setPicker] = useState(false);
  const input = useRef<MentionInputHandle>(null);
  const lastTyping = useRef(0);

  // The draft is kept as it changes; an edit of a sent message is not a draft.
  useEffect(() => {
    if (!editing) saveDraft(drafts, channel.id, { ...draft, replyTo: reply?.id ?? null });
  }, [draft, reply, editing, drafts, channel.id]);

  // Choosing "Reply" puts the caret here.
  useEffect(() => {
    if (reply) input.current?.focus();
  }, [reply]);

  const send = useMutation({
    mutationFn: ({ draft: d, edit, replyTo }: { draft: Draft; edit: Message | null; replyTo: ID | null }) => {
      const body = draftBody(d);
      return edit
        ? data(api.PATCH("/messages/{id}", { params: { path: { id: edit.id } }, body }))
        : data(api.POST("/channels/{id}/messages", { params: { path: { id: channel.id } }, body: replyTo ? { ...body, reply_to: replyTo } : body }));
    },
    onSuccess: () => {
      setDraft(emptyDraft);
      setEditing(null);
      onReplyDone();
      saveDraft(drafts, channel.id, { ...emptyDraft, replyTo: null });
      lastTyping.current = 0; // the next keystroke starts a new typing spell
    },
  });

  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  const typing = typingText(typingIn(chat, channel.id, now, self).map((u) => nameOf(u) ?? u.slice(0, 8)));

  const limit = useTextLimit(draft);
  const submit = () => {
    if (draft.text.trim() && !limit.refusal && !send.isPending) send.mutate({ draft, edit: editing, replyTo: reply?.id ?? null });
  };
  const stopEditing = () => {
    setEditing(null);
    setDraft(loadDraft(drafts, channel.id) ?? emptyDraft);
  };

  return (
    <div className="shrink-0 px-4 pb-4">
      {reply && !editing && (
        <div data-testid="replying" className="flex items-center gap-2 rounded-t-md bg-secondary px-3 py-1.5 text-xs text-secondary-foreground">
          <span className="min-w-0 flex-1 truncate">
            Replying to <span className="font-semibold">{reply.name ?? "a message"}</span>
          </span>
          <Tooltip>
            <TooltipTrigger asChild>
              <Button variant="ghost" size="icon-sm" className="h-5 w-5" aria-label="Cancel reply" onClick={onReplyDone}>
                <X aria-hidden />
              </Button>
            </TooltipTrigger>
            <TooltipContent>Cancel reply</TooltipContent>
          </Tooltip>
        </div>
      )}
      {editing && (
        <p className="flex items-center gap-1 rounded-t-md bg-secondary px-3 py-1.5 text-xs text-secondary-foreground">
          Editing your message ·
          <button type="button" className="text-primary hover:underline focus-visible:underline focus-visible:outline-none" onClick={stopEditing}>
            cancel
          </button>
        </p>
      )}
      <div
        className={`flex items-end gap-1 bg-muted px-4 focus-within:ring-2 focus-within:ring-ring ${reply || editing ? "rounded-b-md" : "rounded-md"}`}
      >
        <MentionInput
          ref={input}
          data-testid="composer"
          aria-label={`Message #${channel.name}`}
          placeholder={`Message #${channel.name}`}
          className="max-h-64 py-3"
          rows={Math.min(8, Math.max(1, draft.text.split("\n").length))}
          draft={draft}
          members={members}
          roles={roles}
          offerEveryone
          shortcodes={shortcodes}
          onDraft={(d) => {
            setDraft(d);
            if (d.text && !editing && Date.now() - lastTyping.current > typingEveryMs) {
              lastTyping.current = Date.now();
              api.POST("/channels/{id}/typing", { params: { path: { id: channel.id } } }).catch(() => undefined);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              submit();
            } else if (e.key === "ArrowUp" && draft.text === "" && lastOwn && !editing) {
              e.preventDefault();
              setEditing(lastOwn);
              setDraft(draftOf(lastOwn.text, nameOf, roleNameOf));
            } else if (e.key === "Escape" && editing) {
              e.preventDefault(); // cancels the edit; the pane's Esc (reply, mark read) waits
              stopEditing();
            }
          }}
        />
        <LimitCounter limit={limit} className="mb-3.5" />
        <Popover open={picker} onOpenChange={setPicker}>
          <Tooltip>
            <TooltipTrigger asChild>
              <PopoverTrigger asChild>
                <Button variant="ghost" size="icon" className="mb-1.5 shrink-0 text-muted-foreground hover:text-foreground" aria-label="Emoji">
                  <Smile aria-hidden />
                </Button>
              </PopoverTrigger>
            </TooltipTrigger>
            <TooltipContent>Emoji</TooltipContent>
          </Tooltip>
          <PopoverContent
            side="top"
            align="end"
            className="w-auto p-0"
            onCloseAutoFocus={(e) => {
              e.preventDefault(); // back to the text, not the button
              input.current?.focus();
            }}
          >
            <EmojiPicker
              onPick={(emoji) => {
                input.current?.insert(emoji);
                setPicker(false);
              }}
            />
          </PopoverContent>
        </Popover>
      </div>
      <p data-testid={typing ? "typing" : undefined} aria-live="polite" className="h-5 truncate pt-0.5 text-xs text-muted-foreground">
        {typing}
        {limit.refusal && (
          <span data-testid="send-refused" className="text-destructive">
            {typing && " · "}
            {limit.refusal}
          </span>
        )}
        {send.isError && !limit.refusal && (
          <span role="alert" className="text-destructive">
            {typing && " · "}Not sent: {errorText(send.error)} ·{" "}
            <button data-testid="send-retry" type="button" className="font-medium underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring" onClick={submit}>
              Retry
            </button>
          </span>
        )}
      </p>
    </div>
  );
}
