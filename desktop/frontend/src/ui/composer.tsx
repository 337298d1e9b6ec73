// Writing messages: the composer under the message list (send, reply,
// edit the last own message with ↑, typing indicator) and the box that
// edits a message in place. Both offer @mention completion
// (src/lib/mentions.ts): the text shows "@Name", the message carries the
// member's <@key> token.

import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type TextareaHTMLAttributes } from "react";
import { useMutation } from "@tanstack/react-query";
import type { Channel, Message } from "../lib/api";
import { decodeMentions, encodeMentions, insertMention, matchMembers, mentionFields, mentionQuery, type Mentionable } from "../lib/mentions";
import { typingIn } from "../lib/reducer";
import { useSession } from "./context";
import { errorText } from "./modal";

/** A message's text being written: what the box shows and whom its "@Name"s stand for. */
export interface Draft {
  text: string;
  picked: readonly Mentionable[];
}

export const emptyDraft: Draft = { text: "", picked: [] };

/** A sent text as a draft to edit: its mention tokens shown as "@Name". */
export function draftOf(text: string, nameOf: (user: string) => string | undefined): Draft {
  return decodeMentions(text, nameOf);
}

/** What a draft sends: the text with tokens, and whom it mentions. */
export function draftBody(draft: Draft): { text: string; mentions: string[]; everyone: boolean } {
  const text = encodeMentions(draft.text.trim(), draft.picked);
  return { text, ...mentionFields(text) };
}

type TextareaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "value" | "onChange" | "onKeyDown">;

/**
 * A textarea that completes "@letters" from members: ↑/↓ choose, Tab or
 * Enter pick, Esc closes the list; other keys go to onKeyDown.
 */
export function MentionInput({ draft, onDraft, members, onKeyDown, ...props }: TextareaProps & {
  draft: Draft;
  onDraft: (d: Draft) => void;
  members: readonly Mentionable[];
  onKeyDown?: (e: KeyboardEvent<HTMLTextAreaElement>) => void;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(draft.text.length);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const pendingCaret = useRef<number | null>(null);
  const query = mentionQuery(draft.text, caret);
  const options = query ? matchMembers(members, query.query) : [];
  const open = query !== null && options.length > 0 && dismissed !== query.start;
  const chosen = Math.min(active, options.length - 1);

  useLayoutEffect(() => {
    const at = pendingCaret.current;
    if (at === null || !ref.current) return;
    pendingCaret.current = null;
    ref.current.setSelectionRange(at, at);
  });

  const pick = (who: Mentionable) => {
    if (!query) return;
    const next = insertMention(draft.text, query, who);
    pendingCaret.current = next.caret;
    setCaret(next.caret);
    onDraft({ text: next.text, picked: draft.picked.some((p) => p.user === who.user) ? draft.picked : [...draft.picked, who] });
  };

  return (
    <div className="relative">
      {open && (
        <ul role="listbox" aria-label="Members to mention" data-testid="mention-list"
          className="absolute bottom-full left-0 z-20 mb-1 w-64 overflow-hidden rounded-lg border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
          {options.map((m, i) => (
            <li key={m.user} role="option" aria-selected={i === chosen} data-testid="mention-option" data-user={m.user}
              className={`cursor-pointer truncate px-3 py-1 ${i === chosen ? "bg-indigo-600 text-white" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"}`}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the textarea
                pick(m);
              }}>
              @{m.name}
            </li>
          ))}
        </ul>
      )}
      <textarea
        {...props}
        ref={ref}
        value={draft.text}
        aria-autocomplete="list"
        aria-expanded={open}
        onChange={(e) => {
          setCaret(e.target.selectionStart);
          setActive(0);
          onDraft({ ...draft, text: e.target.value });
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
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
              pick(options[chosen] as Mentionable);
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
}

export function EditBox({ message, members, nameOf, onDone }: {
  message: Message;
  members: readonly Mentionable[];
  nameOf: (u: string) => string | undefined;
  onDone: () => void;
}) {
  const { client } = useSession();
  const [draft, setDraft] = useState(() => draftOf(message.text, nameOf));
  const save = useMutation({ mutationFn: () => client.editMessage(message.id, draftBody(draft)), onSuccess: onDone });
  return (
    <div>
      <MentionInput
        data-testid="edit-input"
        autoFocus
        className="w-full resize-none rounded bg-zinc-100 p-2 outline-none dark:bg-zinc-800"
        rows={Math.min(8, draft.text.split("\n").length)}
        draft={draft}
        onDraft={setDraft}
        members={members}
        onKeyDown={(e) => {
          if (e.key === "Escape") onDone();
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            const body = draftBody(draft);
            if (body.text && body.text !== message.text) save.mutate();
            else onDone();
          }
        }}
      />
      <p className="text-xs text-zinc-500">Esc to cancel · Enter to save{save.isError && ` · ${errorText(save.error)}`}</p>
    </div>
  );
}

export function Composer({ channel, members, nameOf, lastOwn, replyTo, onReplyDone }: {
  channel: Channel;
  members: readonly Mentionable[];
  nameOf: (u: string) => string | undefined;
  lastOwn: Message | null;
  replyTo: Message | null;
  onReplyDone: () => void;
}) {
  const { client, chat, self } = useSession();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [editing, setEditing] = useState<Message | null>(null);
  const lastTyping = useRef(0);
  const send = useMutation({
    mutationFn: (d: Draft) => {
      const body = draftBody(d);
      return editing
        ? client.editMessage(editing.id, body)
        : client.sendMessage(channel.id, replyTo ? { ...body, reply_to: replyTo.id } : body);
    },
    onSuccess: () => {
      setDraft(emptyDraft);
      setEditing(null);
      onReplyDone();
      lastTyping.current = 0; // the next keystroke starts a new typing spell
    },
  });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  const typing = typingIn(chat, channel.id, now, self).map((u) => nameOf(u) ?? u.slice(0, 8));
  const submit = () => {
    if (draft.text.trim() && !send.isPending) send.mutate(draft);
  };
  return (
    <div className="shrink-0 px-4 pb-4">
      {replyTo && !editing && (
        <p data-testid="replying" className="mb-1 text-xs text-zinc-500">
          Replying to <span className="font-medium">{nameOf(replyTo.author) ?? replyTo.author.slice(0, 8)}</span> ·{" "}
          <button className="underline" onClick={onReplyDone}>cancel</button>
        </p>
      )}
      {editing && (
        <p className="mb-1 text-xs text-zinc-500">
          Editing your message · <button className="underline" onClick={() => { setEditing(null); setDraft(emptyDraft); }}>cancel</button>
        </p>
      )}
      <MentionInput
        data-testid="composer"
        className="w-full resize-none rounded-lg bg-zinc-100 px-4 py-3 outline-none dark:bg-zinc-800"
        rows={Math.min(8, Math.max(1, draft.text.split("\n").length))}
        placeholder={`Message #${channel.name}`}
        maxLength={4000}
        draft={draft}
        members={members}
        onDraft={(d) => {
          setDraft(d);
          if (d.text && Date.now() - lastTyping.current > 3000) {
            lastTyping.current = Date.now();
            client.typing(channel.id).catch(() => undefined);
          }
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            submit();
          } else if (e.key === "ArrowUp" && draft.text === "" && lastOwn) {
            e.preventDefault();
            setEditing(lastOwn);
            setDraft(draftOf(lastOwn.text, nameOf));
          } else if (e.key === "Escape" && editing) {
            setEditing(null);
            setDraft(emptyDraft);
          } else if (e.key === "Escape" && replyTo) {
            onReplyDone();
          }
        }}
      />
      <p data-testid={typing.length > 0 ? "typing" : undefined} className="h-4 text-xs text-zinc-500">
        {typing.length === 1 && `${typing[0]} is typing…`}
        {typing.length === 2 && `${typing[0]} and ${typing[1]} are typing…`}
        {typing.length > 2 && "Several people are typing…"}
        {send.isError && (
          <span className="text-red-500">
            Not sent: {errorText(send.error)} ·{" "}
            <button data-testid="send-retry" className="underline" onClick={submit}>retry</button>
          </span>
        )}
      </p>
    </div>
  );
}
