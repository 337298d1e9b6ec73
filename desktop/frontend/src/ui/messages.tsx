// The message pane: the channel header, the virtualized message list and
// the composer. The list shows a bounded window of the channel's history
// (src/lib/window.ts): pages come in at either end as the reader scrolls
// and the far end is dropped, so the work per page stays the same however
// long the channel; what the reader sees stays put when rows come or go
// above it. Rows are grouped by author and day, with hover actions.

import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer, type VirtualItem } from "@tanstack/react-virtual";
import type { Channel, Client, Community, Key, Member, Message, MessagePage } from "../lib/api";
import { messageRows, type Row } from "../lib/group";
import { Markdown } from "../lib/markdown";
import type { MessageWindow } from "../lib/window";
import { Composer, EditBox } from "./composer";
import { useSession } from "./context";
import { Modal, buttonClass, errorText, quietButtonClass } from "./modal";
import type { ReadMarks } from "./unread";

const pageSize = 50;
const emojis = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👀"];
const noMessages: readonly Message[] = [];

export function MessagePane({ community, channel, marks }: { community: Community; channel: Channel; marks: ReadMarks }) {
  const { client, chat, dispatch, self } = useSession();
  const members = useQuery({ queryKey: ["members", community.id], queryFn: ({ signal }) => client.members(community.id, { signal }) });
  const names = useMemo(() => new Map((members.data ?? []).map((m: Member) => [m.user, m.name])), [members.data]);
  const nameOf = useCallback((u: string) => names.get(u), [names]);
  const mentionable = useMemo(() => (members.data ?? []).filter((m) => m.state === "joined"), [members.data]);

  // The latest page; refetched when a bulk sync says the channel changed.
  const latest = useQuery({
    queryKey: ["page", channel.id],
    queryFn: ({ signal }) => client.messages(channel.id, { limit: pageSize }, { signal }),
  });
  useEffect(() => {
    if (latest.data) dispatch({ type: "page", channel: channel.id, page: { limit: pageSize }, messages: latest.data });
  }, [latest.data, channel.id, dispatch]);

  const win = chat.windows[channel.id];
  const messages = win?.messages ?? noMessages;
  const hasOlder = win !== undefined && !win.atOldest;
  // Where the divider goes: the mark as it was when the channel was opened.
  const [lastRead] = useState(() => marks.get(channel.id));
  const built = useRef<Row[]>([]);
  const rows = useMemo(() => (built.current = messageRows(messages, { lastRead, self, hasOlder }, built.current)), [messages, lastRead, self, hasOlder]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const lastOwn = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) if ((messages[i] as Message).author === self) return messages[i] as Message;
    return null;
  }, [messages, self]);
  const onRead = useCallback((m: Message) => marks.markRead(channel.id, m), [marks, channel.id]);

  return (
    <>
      <header className="flex h-12 shrink-0 items-center gap-2 border-b border-zinc-200 px-4 shadow-sm dark:border-zinc-800">
        <span className="text-lg text-zinc-400">#</span>
        <h1 className="font-semibold">{channel.name}</h1>
        {channel.topic && <p className="truncate border-l border-zinc-300 pl-2 text-zinc-500 dark:border-zinc-600">{channel.topic}</p>}
      </header>
      <MessageList channel={channel} win={win} rows={rows} nameOf={nameOf} members={mentionable} onReply={setReplyTo} byId={byId} onRead={onRead} />
      <Composer channel={channel} members={mentionable} nameOf={nameOf} lastOwn={lastOwn} replyTo={replyTo} onReplyDone={() => setReplyTo(null)} />
    </>
  );
}

/** The first row at or below offset `top`, by binary search over the rows' measured starts. */
function firstRowBelow(items: readonly VirtualItem[], top: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid] as VirtualItem).end > top) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function MessageList({ channel, win, rows, nameOf, members, onReply, byId, onRead }: {
  channel: Channel;
  win: MessageWindow | undefined;
  rows: Row[];
  nameOf: (u: string) => string | undefined;
  members: readonly Member[];
  onReply: (m: Message) => void;
  byId: Map<string, Message>;
  onRead: (m: Message) => void;
}) {
  const { client, dispatch, self } = useSession();
  const queries = useQueryClient();
  const parent = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [editing, setEditing] = useState<string | null>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 44,
    overscan: 12,
    getItemKey: (i) => rows[i]?.key ?? i,
  });
  // Following the newest message: at the bottom of a window that reaches the present.
  const following = atBottom && (win?.atNewest ?? true);

  // One page request at a time; a page that no longer borders the window
  // when it arrives is dropped by the reducer.
  const busy = useRef(false);
  const pager = useMutation({
    mutationFn: ({ page }: { page: MessagePage; jump: boolean }) => client.messages(channel.id, page),
    onSuccess: (messages, { page, jump }) => {
      dispatch({ type: jump ? "jump" : "page", channel: channel.id, page, messages });
      // Back at the present from below: messages that came live while the
      // window was away from it are in the latest page.
      if (page.after !== undefined && messages.length < pageSize) void queries.invalidateQueries({ queryKey: ["page", channel.id] });
    },
    onSettled: () => {
      busy.current = false;
    },
    // A done page lives on in the reducer's window only: thousands of
    // pages kept in the mutation cache would grow the heap, and with it
    // the garbage collector's pauses, over a long scroll.
    gcTime: 0,
  });
  const load = (page: MessagePage, jump = false) => {
    if (busy.current) return;
    busy.current = true;
    pager.mutate({ page: { ...page, limit: pageSize }, jump });
  };

  // On opening: a window left behind earlier (the reader had scrolled far
  // up in it) starts at the present again.
  useEffect(() => {
    if (win && !win.atNewest) load({}, true);
  }, []);

  // Near an end of the window that is not an end of the channel: fetch the next page there.
  const loadNear = (el: HTMLElement) => {
    const first = win?.messages[0];
    const last = win?.messages[win.messages.length - 1];
    const margin = el.clientHeight;
    if (first && !win?.atOldest && el.scrollTop < margin) load({ before: first.id });
    else if (last && !win?.atNewest && el.scrollHeight - el.scrollTop - el.clientHeight < margin) load({ after: last.id });
  };

  // What the reader sees: the first message row on screen and how far the
  // view's top is below its start, kept on every scroll. When rows come or
  // go above it (an older page, a dropped one) the view follows it, so
  // what the reader sees does not move; otherwise scrollTop would stay
  // where it was and show other rows.
  const anchor = useRef<{ key: VirtualItem["key"]; offset: number } | null>(null);
  const keepAnchor = () => {
    const top = parent.current?.scrollTop ?? 0;
    const items = virtual.measurementsCache;
    for (let i = firstRowBelow(items, top); i < items.length; i++) {
      const item = items[i] as VirtualItem;
      if (rows[i]?.kind === "message") {
        anchor.current = { key: item.key, offset: top - item.start };
        return;
      }
    }
    anchor.current = null;
  };
  useLayoutEffect(() => {
    const el = parent.current;
    if (!el) return;
    const a = anchor.current;
    if (following) {
      if (rows.length > 0) virtual.scrollToIndex(rows.length - 1, { align: "end" });
    } else if (a) {
      const i = rows.findIndex((r) => r.key === a.key);
      const item = i < 0 ? undefined : virtual.measurementsCache[i];
      if (item && Math.abs(item.start + a.offset - el.scrollTop) >= 1) virtual.scrollToOffset(item.start + a.offset);
    }
    keepAnchor();
    loadNear(el);
    // Only a change of rows moves them; scrolling keeps the anchor itself.
  }, [rows]);

  // The channel is read while its newest message is on screen.
  useEffect(() => {
    const last = win?.messages[win.messages.length - 1];
    if (following && last) onRead(last);
  }, [following, win, onRead]);

  return (
    <div className="relative min-h-0 flex-1">
      <div
        ref={parent}
        data-testid="message-list"
        className="h-full overflow-y-auto"
        onScroll={(e) => {
          const el = e.currentTarget;
          setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < 40);
          keepAnchor();
          loadNear(el);
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
                  <div data-testid="unread-divider" className="mx-4 my-1 flex items-center gap-2 text-xs font-semibold text-red-500">
                    <span className="h-px flex-1 bg-red-500" /> New
                  </div>
                )}
                {row.kind === "message" && (
                  <MessageRow client={client} self={self} message={row.message} first={row.first} nameOf={nameOf} members={members}
                    editing={editing === row.message.id} setEditing={setEditing} onReply={onReply}
                    replied={row.message.reply_to ? byId.get(row.message.reply_to) : undefined} />
                )}
              </div>
            );
          })}
        </div>
        {win?.atOldest && rows.length === 0 && <p className="p-4 text-zinc-500">This is the beginning of #{channel.name}.</p>}
      </div>
      {!following && (
        <button
          data-testid="jump-present"
          className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-indigo-600 px-4 py-1 text-xs text-white shadow"
          onClick={() => {
            setAtBottom(true);
            if (win && !win.atNewest) load({}, true);
            else virtual.scrollToIndex(rows.length - 1, { align: "end" });
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

const MessageRow = memo(function MessageRow({ client, self, message, first, nameOf, members, editing, setEditing, onReply, replied }: {
  client: Client;
  self: Key;
  message: Message;
  first: boolean;
  nameOf: (u: string) => string | undefined;
  members: readonly Member[];
  editing: boolean;
  setEditing: (id: string | null) => void;
  onReply: (m: Message) => void;
  replied: Message | undefined;
}) {
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
        <EditBox message={message} members={members} nameOf={nameOf} onDone={() => setEditing(null)} />
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
});
