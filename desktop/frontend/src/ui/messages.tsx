// The message pane: the channel header, the virtualized message list
// (grouped by author and day, older pages loaded on scrolling up), hover
// actions, and the composer with its typing indicator.

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useVirtualizer, type VirtualItem } from "@tanstack/react-virtual";
import type { Channel, Community, Member, Message } from "../lib/api";
import { messageRows, type LastRead, type Row } from "../lib/group";
import { Markdown } from "../lib/markdown";
import { typingIn } from "../lib/reducer";
import { useSession } from "./context";
import { Modal, buttonClass, errorText, quietButtonClass } from "./modal";

const pageSize = 50;
const emojis = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👀"];

function lastReadKey(channel: string) {
  return `ancore.read.${channel}`;
}

export function MessagePane({ community, channel }: { community: Community; channel: Channel }) {
  const { client, chat, dispatch, self } = useSession();
  const members = useQuery({ queryKey: ["members", community.id], queryFn: ({ signal }) => client.members(community.id, { signal }) });
  const names = useMemo(() => new Map((members.data ?? []).map((m: Member) => [m.user, m.name])), [members.data]);
  const nameOf = useCallback((u: string) => names.get(u), [names]);

  // The latest page; refetched when a bulk sync says the channel changed.
  const latest = useQuery({
    queryKey: ["page", channel.id],
    queryFn: ({ signal }) => client.messages(channel.id, { limit: pageSize }, { signal }),
  });
  useEffect(() => {
    if (latest.data) dispatch({ type: "page", channel: channel.id, messages: latest.data });
  }, [latest.data, channel.id, dispatch]);

  const messages = chat.messages[channel.id] ?? [];
  const [lastRead] = useState<LastRead | null>(() => {
    const v = window.localStorage.getItem(lastReadKey(channel.id));
    return v ? (JSON.parse(v) as LastRead) : null;
  });
  useEffect(() => {
    const last = messages[messages.length - 1];
    if (last) window.localStorage.setItem(lastReadKey(channel.id), JSON.stringify({ id: last.id, at: last.created_at }));
  }, [messages, channel.id]);
  const rows = useMemo(() => messageRows(messages, { lastRead, self }), [messages, lastRead, self]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);

  return (
    <>
      <header className="flex h-12 shrink-0 items-center gap-2 border-b border-zinc-200 px-4 shadow-sm dark:border-zinc-800">
        <span className="text-lg text-zinc-400">#</span>
        <h1 className="font-semibold">{channel.name}</h1>
        {channel.topic && <p className="truncate border-l border-zinc-300 pl-2 text-zinc-500 dark:border-zinc-600">{channel.topic}</p>}
      </header>
      <MessageList channel={channel} rows={rows} nameOf={nameOf} hasMore={(latest.data?.length ?? 0) >= pageSize} onReply={setReplyTo} byId={byId} />
      <Composer channel={channel} nameOf={nameOf} lastOwn={[...messages].reverse().find((m) => m.author === self) ?? null} replyTo={replyTo} onReplyDone={() => setReplyTo(null)} />
    </>
  );
}

function MessageList({ channel, rows, nameOf, hasMore, onReply, byId }: {
  channel: Channel;
  rows: Row[];
  nameOf: (u: string) => string | undefined;
  hasMore: boolean;
  onReply: (m: Message) => void;
  byId: Map<string, Message>;
}) {
  const { client, dispatch } = useSession();
  const parent = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [older, setOlder] = useState(hasMore);
  const [editing, setEditing] = useState<string | null>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 44,
    overscan: 12,
    getItemKey: (i) => rows[i]?.key ?? i,
  });
  useEffect(() => setOlder(hasMore), [hasMore]);

  // Where the reader was when an older page arrived: the first message row
  // on screen and how far the view's top is below its start. The prepended
  // rows would otherwise push the view to the oldest rows: scrollTop stays
  // where it was (near 0), so the reader loses their place and no further
  // scroll event asks for the next page.
  const anchor = useRef<{ key: VirtualItem["key"]; offset: number } | null>(null);
  useLayoutEffect(() => {
    const a = anchor.current;
    if (!a) return;
    anchor.current = null;
    const i = rows.findIndex((r) => r.key === a.key);
    const item = i < 0 ? undefined : virtual.measurementsCache[i];
    if (item) virtual.scrollToOffset(item.start + a.offset);
  }, [rows, virtual]);

  // Stick to the newest message while the user is at the bottom.
  useLayoutEffect(() => {
    if (atBottom && rows.length > 0) virtual.scrollToIndex(rows.length - 1, { align: "end" });
  }, [rows.length, atBottom, virtual]);

  const loadOlder = useMutation({
    mutationFn: async () => {
      const first = rows.find((r): r is Extract<Row, { kind: "message" }> => r.kind === "message");
      if (!first) return [];
      return client.messages(channel.id, { before: first.message.id, limit: pageSize });
    },
    onSuccess: (page) => {
      if (page.length < pageSize) setOlder(false);
      if (page.length > 0) {
        const top = virtual.scrollOffset ?? parent.current?.scrollTop ?? 0;
        const item = virtual.getVirtualItems().find((it) => it.end > top && rows[it.index]?.kind === "message");
        anchor.current = item ? { key: item.key, offset: top - item.start } : null;
        dispatch({ type: "page", channel: channel.id, messages: page });
      }
    },
  });

  return (
    <div className="relative min-h-0 flex-1">
      <div
        ref={parent}
        data-testid="message-list"
        className="h-full overflow-y-auto"
        onScroll={(e) => {
          const el = e.currentTarget;
          setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < 40);
          if (el.scrollTop < 200 && older && !loadOlder.isPending) loadOlder.mutate();
        }}
      >
        <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
          {virtual.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            return (
              <div key={item.key} data-index={item.index} ref={virtual.measureElement} className="absolute left-0 right-0 hover:z-10 focus-within:z-10" style={{ transform: `translateY(${item.start}px)` }}>
                {row.kind === "day" && <DaySeparator day={row.day} />}
                {row.kind === "unread" && (
                  <div className="mx-4 my-1 flex items-center gap-2 text-xs font-semibold text-red-500">
                    <span className="h-px flex-1 bg-red-500" /> New
                  </div>
                )}
                {row.kind === "message" && (
                  <MessageRow message={row.message} first={row.first} nameOf={nameOf} editing={editing === row.message.id} setEditing={setEditing}
                    onReply={onReply} replied={row.message.reply_to ? byId.get(row.message.reply_to) : undefined} />
                )}
              </div>
            );
          })}
        </div>
        {rows.length === 0 && <p className="p-4 text-zinc-500">This is the beginning of #{channel.name}.</p>}
      </div>
      {!atBottom && (
        <button
          className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-indigo-600 px-4 py-1 text-xs text-white shadow"
          onClick={() => {
            setAtBottom(true);
            virtual.scrollToIndex(rows.length - 1, { align: "end" });
          }}
        >
          Jump to present
        </button>
      )}
    </div>
  );
}

function DaySeparator({ day }: { day: string }) {
  const label = new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
  return (
    <div className="mx-4 my-2 flex items-center gap-2 text-xs text-zinc-500">
      <span className="h-px flex-1 bg-zinc-300 dark:bg-zinc-600" /> {label} <span className="h-px flex-1 bg-zinc-300 dark:bg-zinc-600" />
    </div>
  );
}

function MessageRow({ message, first, nameOf, editing, setEditing, onReply, replied }: {
  message: Message;
  first: boolean;
  nameOf: (u: string) => string | undefined;
  editing: boolean;
  setEditing: (id: string | null) => void;
  onReply: (m: Message) => void;
  replied: Message | undefined;
}) {
  const { client, self } = useSession();
  const [picker, setPicker] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const mine = message.author === self;
  const react = useMutation({
    mutationFn: ({ emoji, on }: { emoji: string; on: boolean }) => (on ? client.react(message.id, emoji) : client.unreact(message.id, emoji)),
  });
  const remove = useMutation({ mutationFn: () => client.deleteMessage(message.id), onSuccess: () => setConfirm(false) });
  const time = new Date(message.created_at);
  const name = nameOf(message.author) ?? message.author.slice(0, 8);
  return (
    <div data-testid="message" data-id={message.id} className={`group relative px-4 hover:bg-zinc-50 dark:hover:bg-zinc-800/40 ${first ? "mt-3 pt-1" : ""}`}>
      {first && (
        <p className="flex items-baseline gap-2">
          <span className="font-semibold">{name}</span>
          <time className="text-xs text-zinc-500" dateTime={message.created_at}>{time.toLocaleString()}</time>
        </p>
      )}
      {message.reply_to && (
        <p data-testid="reply-context" className="truncate text-xs text-zinc-500">
          ↪ {replied ? <><span className="font-medium">@{nameOf(replied.author) ?? replied.author.slice(0, 8)}</span> {replied.text}</> : "a message not loaded here"}
        </p>
      )}
      {editing ? (
        <EditBox message={message} onDone={() => setEditing(null)} />
      ) : (
        <div className={`whitespace-pre-wrap break-words ${message.state === "pending" ? "opacity-60" : ""}`}>
          <span data-testid="message-text">
            <Markdown text={message.text} nameOf={nameOf} self={self} />
          </span>
          {message.edited_at && <span data-testid="edited" className="ml-1 text-xs text-zinc-500">(edited)</span>}
          {message.state === "pending" && <span className="ml-1 text-xs text-amber-600" title="No peer has it yet; it is sent as soon as one is reachable">(pending)</span>}
        </div>
      )}
      {message.reactions.length > 0 && (
        <div className="mt-1 flex flex-wrap gap-1">
          {message.reactions.map((r) => {
            const on = r.users.includes(self);
            return (
              <button key={r.emoji} data-testid="reaction" data-emoji={r.emoji} title={r.users.map((u) => nameOf(u) ?? u.slice(0, 8)).join(", ")}
                onClick={() => react.mutate({ emoji: r.emoji, on: !on })}
                className={`rounded border px-1.5 text-xs ${on ? "border-indigo-500 bg-indigo-500/10" : "border-zinc-300 dark:border-zinc-600"}`}>
                {r.emoji} {r.users.length}
              </button>
            );
          })}
        </div>
      )}
      <div className="absolute -top-3 right-4 hidden gap-0.5 rounded border border-zinc-200 bg-white shadow-sm group-hover:flex dark:border-zinc-800 dark:bg-zinc-800">
        <button data-testid="message-reply" title="Reply" className="px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => onReply(message)}>↩</button>
        <button data-testid="message-react" title="Add reaction" className="px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => setPicker(!picker)}>☺</button>
        {mine && <button data-testid="message-edit" title="Edit" className="px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => setEditing(message.id)}>✎</button>}
        {mine && <button data-testid="message-delete" title="Delete" className="px-2 py-1 text-red-500 hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => setConfirm(true)}>
          <svg aria-hidden viewBox="0 0 24 24" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="2"><path d="M3 6h18M8 6V4h8v2M6 6l1 14h10l1-14" /></svg>
        </button>}
      </div>
      {picker && (
        <div className="absolute right-4 top-6 z-20 flex gap-1 rounded bg-white p-1 shadow-lg dark:bg-zinc-900" onMouseLeave={() => setPicker(false)}>
          {emojis.map((e) => (
            <button key={e} data-testid="emoji" data-emoji={e} className="rounded p-1 text-lg hover:bg-zinc-100 dark:hover:bg-zinc-700" onClick={() => { react.mutate({ emoji: e, on: true }); setPicker(false); }}>
              {e}
            </button>
          ))}
        </div>
      )}
      {confirm && (
        <Modal title="Delete message" onClose={() => setConfirm(false)}>
          <p className="mb-2">Delete this message for everyone? Its content is purged from every peer that applies the delete.</p>
          <blockquote className="rounded bg-zinc-100 p-2 dark:bg-zinc-900">{message.text}</blockquote>
          {remove.isError && <p className="mt-2 text-red-500">{errorText(remove.error)}</p>}
          <div className="mt-4 flex justify-end gap-2">
            <button className={quietButtonClass} onClick={() => setConfirm(false)}>Cancel</button>
            <button data-testid="confirm-delete" className={`${buttonClass} bg-red-600 hover:bg-red-500`} disabled={remove.isPending} onClick={() => remove.mutate()}>Delete</button>
          </div>
        </Modal>
      )}
    </div>
  );
}

function EditBox({ message, onDone }: { message: Message; onDone: () => void }) {
  const { client } = useSession();
  const [text, setText] = useState(message.text);
  const save = useMutation({ mutationFn: () => client.editMessage(message.id, { text: text.trim() }), onSuccess: onDone });
  return (
    <div>
      <textarea
        data-testid="edit-input"
        autoFocus
        className="w-full resize-none rounded bg-zinc-100 p-2 outline-none dark:bg-zinc-800"
        rows={Math.min(8, text.split("\n").length)}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onDone();
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            if (text.trim() && text.trim() !== message.text) save.mutate();
            else onDone();
          }
        }}
      />
      <p className="text-xs text-zinc-500">Esc to cancel · Enter to save{save.isError && ` · ${errorText(save.error)}`}</p>
    </div>
  );
}

function Composer({ channel, nameOf, lastOwn, replyTo, onReplyDone }: {
  channel: Channel;
  nameOf: (u: string) => string | undefined;
  lastOwn: Message | null;
  replyTo: Message | null;
  onReplyDone: () => void;
}) {
  const { client, chat, self } = useSession();
  const [text, setText] = useState("");
  const [editing, setEditing] = useState<Message | null>(null);
  const lastTyping = useRef(0);
  const send = useMutation({
    mutationFn: (body: string) =>
      editing
        ? client.editMessage(editing.id, { text: body })
        : client.sendMessage(channel.id, replyTo ? { text: body, reply_to: replyTo.id } : { text: body }),
    onSuccess: () => {
      setText("");
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
          Editing your message · <button className="underline" onClick={() => { setEditing(null); setText(""); }}>cancel</button>
        </p>
      )}
      <textarea
        data-testid="composer"
        className="w-full resize-none rounded-lg bg-zinc-100 px-4 py-3 outline-none dark:bg-zinc-800"
        rows={Math.min(8, Math.max(1, text.split("\n").length))}
        placeholder={`Message #${channel.name}`}
        value={text}
        maxLength={4000}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value && Date.now() - lastTyping.current > 3000) {
            lastTyping.current = Date.now();
            client.typing(channel.id).catch(() => undefined);
          }
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            const body = text.trim();
            if (body && !send.isPending) send.mutate(body);
          } else if (e.key === "ArrowUp" && text === "" && lastOwn) {
            e.preventDefault();
            setEditing(lastOwn);
            setText(lastOwn.text);
          } else if (e.key === "Escape" && editing) {
            setEditing(null);
            setText("");
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
            <button data-testid="send-retry" className="underline" onClick={() => { const body = text.trim(); if (body) send.mutate(body); }}>retry</button>
          </span>
        )}
      </p>
    </div>
  );
}
