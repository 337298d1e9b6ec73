// The virtualized message list. It shows a bounded window of the channel's
// history (src/lib/window.ts): pages come in at either end as the reader
// scrolls and the far end is dropped, so the work per page stays the same
// however long the channel; what the reader sees stays put when rows come
// or go above it. Also: the "new messages" bar while the unread divider is
// above the view, "Jump to present", jumping to a message (a reply's
// original: scrolled to when loaded, else the page around it is fetched),
// one context menu for every row, and the delete confirmation.
// The scrolling, paging and anchoring are all in this file.

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { defaultRangeExtractor, useVirtualizer, type Range, type VirtualItem } from "@tanstack/react-virtual";
import { ArrowDown } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { latestPageSize, useInvalidate } from "@/api/queries";
import type { Channel, ID, Message, MessagePage } from "@/api/types";
import { useSession } from "@/app/session";
import { copyText } from "@/components/copy-field";
import { Button } from "@/components/ui/button";
import { ContextMenu, ContextMenuContent, ContextMenuTrigger } from "@/components/ui/context-menu";
import type { Row } from "@/lib/group";
import { toastError } from "@/lib/errors";
import { decodeMentions } from "@/lib/mentions";
import { pageToLoad, type MessageWindow } from "@/lib/window";
import { messageActions, type MessageAction } from "./actions";
import { DeleteMessageDialog } from "./delete-message-dialog";
import { longDay, messageLink } from "./format";
import { MenuItems, useMenuAct } from "./message-menu";
import { MessageRow, RowContext, type MessageRowContext } from "./message-row";
import { NewMessagesBar, type UnreadSummary } from "./new-messages-bar";

const pageSize = latestPageSize;

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

// The list keeps the reader's view in place itself (the anchor, below);
// the virtualizer's own correction of the scroll position when a row's
// measured size differs from its estimate must not move it a second time.
const noScrollAdjust = () => false;
/** The least a row is high: one line of text. */
const minRowHeight = 20;

/** How long a message jumped to stays highlighted. */
const flashMs = 2000;

export type ListShared = Omit<MessageRowContext, "act" | "react" | "jumpTo" | "setEditing" | "setPicking">;

export function MessageList({ channel, win, rows, byId, shared, unread, onRead, onReply, onMarkRead }: {
  channel: Channel;
  win: MessageWindow | undefined;
  rows: Row[];
  byId: ReadonlyMap<ID, Message>;
  /** What the rows need from the pane: the community, the user, lookups, who can be mentioned. */
  shared: ListShared;
  /** The unread messages below the divider; null when there is no divider. */
  unread: UnreadSummary | null;
  onRead: (m: Message) => void;
  onReply: (m: Message) => void;
  /** The channel is read up to its newest message ("Mark as read", Esc). */
  onMarkRead: () => void;
}) {
  const { api, dispatch } = useSession();
  const invalidate = useInvalidate();
  const parent = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const atEnd = useRef(true); // atBottom as of the last scroll event, before it is rendered
  const [editing, setEditing] = useState<ID | null>(null);
  const [picking, setPicking] = useState<ID | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [menuFor, setMenuFor] = useState<Message | null>(null);
  const [target, setTarget] = useState<ID | null>(null);
  const [flash, setFlash] = useState<ID | null>(null);
  const [dividerAbove, setDividerAbove] = useState(false);
  // What the reader sees (see keepAnchor). Rendering the anchor row, and
  // what fills the view below it, in the render where rows came or went
  // above it lets the view follow it from what is laid out.
  const anchor = useRef<{ key: VirtualItem["key"]; offset: number; top: number } | null>(null);
  const indexOf = useMemo(() => new Map<VirtualItem["key"], number>(rows.map((r, i) => [r.key, i])), [rows]);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 44,
    overscan: 12,
    getItemKey: (i) => rows[i]?.key ?? i,
    rangeExtractor: (range: Range) => {
      const shown = defaultRangeExtractor(range);
      const at = anchor.current ? indexOf.get(anchor.current.key) : undefined;
      if (at === undefined || (at >= (shown[0] ?? 0) && at <= (shown[shown.length - 1] ?? -1))) return shown;
      const below = Math.ceil((parent.current?.clientHeight ?? 0) / minRowHeight) + range.overscan;
      const extra: number[] = [];
      for (let i = Math.max(0, at - range.overscan); i <= Math.min(range.count - 1, at + below); i++) extra.push(i);
      return [...new Set([...shown, ...extra])].sort((a, b) => a - b);
    },
  });
  virtual.shouldAdjustScrollPositionOnItemSizeChange = noScrollAdjust;
  // Following the newest message: at the bottom of a window that reaches the present.
  const following = atBottom && (win?.atNewest ?? true) && target === null;

  // One page request at a time. When one is done, the list looks again
  // (a render, below) whether it is near an end of the window: the page
  // may have been dropped by the reducer (it no longer bordered the
  // window, or would have pushed out what the reader sees), and a reader
  // at the very top of the list gets no scroll event to ask again.
  const busy = useRef(false);
  const [, setSettled] = useState(0);
  const pager = useMutation({
    mutationFn: ({ page }: { page: MessagePage; jump: boolean }) =>
      data(api.GET("/channels/{id}/messages", { params: { path: { id: channel.id }, query: page } })),
    onSuccess: (messages, { page, jump }) => {
      // keep: the window must not drop what the reader sees for this page.
      const keep = anchor.current?.key;
      dispatch(jump ? { type: "jump", channel: channel.id, page, messages } : { type: "page", channel: channel.id, page, messages, keep: typeof keep === "string" ? keep : undefined });
      if (page.around !== undefined && !messages.some((m) => m.id === page.around)) {
        setTarget(null);
        toast.error("That message is no longer there");
      }
      // Back at the present from below: messages that came live while the
      // window was away from it are in the latest page.
      if (page.after !== undefined && messages.length < pageSize) invalidate.pages(channel.id);
    },
    onError: (err, { page }) => {
      if (page.around !== undefined) {
        setTarget(null);
        toastError("Could not load that message", err);
      }
    },
    onSettled: () => {
      busy.current = false;
      setSettled((n) => n + 1);
    },
    // A done page lives on in the reducer's window only: thousands of
    // pages kept in the mutation cache would grow the heap, and with it
    // the garbage collector's pauses, over a long scroll.
    gcTime: 0,
  });
  // A jump goes even while a page is on its way: the reducer drops that page.
  const load = (page: MessagePage, jump = false) => {
    if (busy.current && !jump) return;
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
    const margin = el.clientHeight;
    const page = pageToLoad(win, { start: el.scrollTop < margin, end: el.scrollHeight - el.scrollTop - el.clientHeight < margin });
    if (page) load(page);
  };

  // What the reader sees: a message row on screen, how far the view's top
  // is below that row's top, and the scroll position then; kept on every
  // scroll. Whenever the rows are laid out anew (a page came or went above,
  // a row was measured and turned out taller or shorter than estimated)
  // the view follows that row, so what the reader sees does not move.
  // Where a row is comes from the DOM when it is rendered (what is on
  // screen), else from the virtualizer's estimate, which the next layout
  // corrects.
  const startOf = (key: VirtualItem["key"], i: number): number | undefined => {
    const el = parent.current;
    const node = virtual.elementsCache.get(key);
    if (el && node?.isConnected) return node.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop;
    return virtual.measurementsCache[i < 0 ? (indexOf.get(key) ?? -1) : i]?.start;
  };
  const keepAnchor = () => {
    const el = parent.current;
    const top = el?.scrollTop ?? 0;
    const bottom = top + (el?.clientHeight ?? 0);
    const items = virtual.measurementsCache;
    let fallback: { key: VirtualItem["key"]; offset: number; top: number } | null = null;
    for (let i = firstRowBelow(items, top); i < items.length; i++) {
      const item = items[i] as VirtualItem;
      if (rows[i]?.kind !== "message") continue;
      const start = startOf(item.key, i) ?? item.start;
      if (start > bottom) break;
      // The first row on screen whose size is settled: one that starts
      // on screen (rows above it may change size without moving it), has
      // been measured (a row drawn at its estimate changes when measured)
      // and is not the window's first message (which loses its header
      // when an older page joins above it).
      if (start >= top - 0.5 && virtual.itemSizeCache.has(item.key) && item.key !== win?.messages[0]?.id) {
        anchor.current = { key: item.key, offset: top - start, top };
        return;
      }
      fallback ??= { key: item.key, offset: top - start, top };
    }
    anchor.current = fallback;
  };

  // The new-messages bar shows while the divider is above the view.
  const unreadIndex = unread?.index ?? -1;
  const checkDivider = () => {
    const item = unreadIndex < 0 ? undefined : virtual.measurementsCache[unreadIndex];
    setDividerAbove(item !== undefined && item.end <= (parent.current?.scrollTop ?? 0));
  };

  const laidOut = useRef<Row[] | null>(null);
  // After every render: rows may have come, gone or changed size.
  useLayoutEffect(() => {
    const el = parent.current;
    if (!el) return;
    const changed = laidOut.current !== rows;
    laidOut.current = rows;
    // The rows drawn are measured now, not when the virtualizer gets to
    // it (it waits while the list scrolls): a row drawn at a size it no
    // longer has would overlap the next or leave a gap above it until
    // then. A size that changed renders again before the frame is painted.
    for (const [key, node] of virtual.elementsCache) {
      const i = indexOf.get(key);
      if (i === undefined || !node.isConnected) continue;
      const size = Math.round(node.getBoundingClientRect().height);
      if (virtual.itemSizeCache.get(key) !== size) virtual.resizeItem(i, size);
    }
    const a = anchor.current;
    if (following) {
      if (changed && rows.length > 0) virtual.scrollToIndex(rows.length - 1, { align: "end" });
      // A row below grew (measured): back to the end, unless the reader has
      // just scrolled away from it (atBottom is not rendered yet then).
      else if (atEnd.current && a?.top === el.scrollTop && el.scrollHeight - el.scrollTop - el.clientHeight >= 1) el.scrollTop = el.scrollHeight;
    } else if (a) {
      const start = startOf(a.key, -1);
      if (start !== undefined) {
        // A scroll of the reader's not yet seen by onScroll is kept; a
        // shorter list that pulled scrollTop up with it is not the reader's.
        const max = el.scrollHeight - el.clientHeight;
        const moved = a.top > max ? 0 : el.scrollTop - a.top;
        const want = start + a.offset + moved;
        if (Math.abs(want - el.scrollTop) >= 1) el.scrollTop = want;
      }
    }
    // The same row stays the anchor while it is there (the view was just
    // put back on it); a row measured anew above may not be laid out yet.
    if (a && !following && indexOf.has(a.key)) anchor.current = { ...a, top: el.scrollTop };
    else keepAnchor();
    checkDivider();
    loadNear(el);
  });

  // A message jumped to: scrolled to (centred) and flashed once its row is there.
  useLayoutEffect(() => {
    if (target === null) return;
    const i = rows.findIndex((r) => r.kind === "message" && r.key === target);
    if (i < 0) return;
    virtual.scrollToIndex(i, { align: "center" });
    setTarget(null);
    setFlash(target);
    keepAnchor();
  }, [target, rows]);
  useEffect(() => {
    if (flash === null) return;
    const t = window.setTimeout(() => setFlash(null), flashMs);
    return () => window.clearTimeout(t);
  }, [flash]);

  // The channel is read while its newest message is on screen.
  useEffect(() => {
    const last = win?.messages[win.messages.length - 1];
    if (following && last) onRead(last);
  }, [following, win, onRead]);

  const latest = useRef({ byId, load, onReply });
  latest.current = { byId, load, onReply };

  const jumpTo = useCallback((id: ID) => {
    setAtBottom(false);
    setTarget(id);
    if (!latest.current.byId.has(id)) latest.current.load({ around: id }, true);
  }, []);

  const reaction = useMutation({
    mutationFn: ({ message, emoji, on }: { message: Message; emoji: string; on: boolean }) => {
      const params = { params: { path: { id: message.id, emoji } } };
      return on ? data(api.PUT("/messages/{id}/reactions/{emoji}", params)) : data(api.DELETE("/messages/{id}/reactions/{emoji}", params));
    },
    onError: (err, vars) => toastError(vars.on ? "Could not add the reaction" : "Could not remove the reaction", err, () => reaction.mutate(vars)),
  });
  const react = reaction.mutate;
  const reactTo = useCallback((message: Message, emoji: string, on: boolean) => react({ message, emoji, on }), [react]);

  const { nameOf, roleOf, community } = shared;
  const act = useCallback(
    (action: MessageAction, message: Message, how?: { emoji?: string }) => {
      const copy = (what: string, text: string) =>
        void copyText(text).then((ok) => (ok ? toast.success(`Copied ${what}`) : toastError(`Could not copy the ${what}`, new Error("The clipboard is not available here."))));
      switch (action) {
        case "reply":
          latest.current.onReply(message);
          break;
        case "react":
          if (how?.emoji) react({ message, emoji: how.emoji, on: true });
          else setPicking(message.id);
          break;
        case "edit":
          setEditing(message.id);
          break;
        case "delete":
          setDeleting(message);
          break;
        case "copy-text":
          copy("text", decodeMentions(message.text, nameOf, (id) => roleOf(id)?.name).text);
          break;
        case "copy-link":
          copy("link", messageLink(community, message));
          break;
        case "copy-id":
          copy("message ID", message.id);
          break;
      }
    },
    [react, nameOf, roleOf, community],
  );

  const context = useMemo<MessageRowContext>(
    () => ({ ...shared, act, react: reactTo, jumpTo, setEditing, setPicking }),
    [shared, act, reactTo, jumpTo],
  );

  const { menuAct, onCloseAutoFocus } = useMenuAct(act);

  const jumpToPresent = () => {
    setAtBottom(true);
    setTarget(null);
    if (win && !win.atNewest) load({}, true);
    else virtual.scrollToIndex(rows.length - 1, { align: "end" });
  };

  return (
    <RowContext.Provider value={context}>
      <div className="relative min-h-0 flex-1">
        {unread && dividerAbove && (
          <NewMessagesBar
            summary={unread}
            onJump={() => {
              setAtBottom(false);
              virtual.scrollToIndex(unread.index, { align: "start" });
            }}
            onMarkRead={onMarkRead}
          />
        )}
        <ContextMenu onOpenChange={(open) => !open && setMenuFor(null)}>
          <ContextMenuTrigger asChild>
            <div
              ref={parent}
              data-testid="message-list"
              role="log"
              aria-live="polite"
              aria-relevant="additions"
              aria-label={`Messages in #${channel.name}`}
              className="h-full overflow-y-auto overflow-x-hidden"
              onContextMenu={(e) => {
                const row = (e.target as Element).closest<HTMLElement>("[data-testid=message]");
                const message = row?.dataset.id ? byId.get(row.dataset.id) : undefined;
                if (!message) {
                  e.preventDefault(); // nothing to offer: neither the message menu nor the browser's
                  return;
                }
                setMenuFor(message);
              }}
              onScroll={(e) => {
                const el = e.currentTarget;
                atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
                setAtBottom(atEnd.current);
                keepAnchor();
                checkDivider();
                loadNear(el);
              }}
            >
              <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
                {virtual.getVirtualItems().map((item) => {
                  const row = rows[item.index];
                  if (!row) return null;
                  return (
                    <div
                      key={item.key}
                      data-index={item.index}
                      ref={virtual.measureElement}
                      className="absolute left-0 right-0 hover:z-10 focus-within:z-10"
                      style={{ transform: `translateY(${item.start}px)` }}
                    >
                      {row.kind === "day" && <DaySeparator day={row.day} />}
                      {row.kind === "unread" && <UnreadDivider />}
                      {row.kind === "message" && (
                        <MessageRow
                          message={row.message}
                          first={row.first}
                          replied={row.message.reply_to ? byId.get(row.message.reply_to) : undefined}
                          editing={editing === row.message.id}
                          picking={picking === row.message.id}
                          highlighted={flash === row.message.id}
                        />
                      )}
                    </div>
                  );
                })}
              </div>
              {win?.atOldest && rows.length === 0 && <p className="p-4 text-muted-foreground">This is the beginning of #{channel.name}.</p>}
            </div>
          </ContextMenuTrigger>
          {menuFor && (
            <ContextMenuContent
              data-testid="message-context-menu"
              className="w-56"
              onCloseAutoFocus={onCloseAutoFocus}
            >
              <MenuItems kind="context" message={menuFor} actions={messageActions(menuFor, shared.self, community.my_permissions)} act={menuAct} />
            </ContextMenuContent>
          )}
        </ContextMenu>
        {!following && (
          <Button data-testid="jump-present" size="sm" className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full shadow-md" onClick={jumpToPresent}>
            Jump to present <ArrowDown aria-hidden />
          </Button>
        )}
        <DeleteMessageDialog
          message={deleting}
          preview={deleting ? decodeMentions(deleting.text, nameOf, (id) => roleOf(id)?.name).text : ""}
          onClose={() => setDeleting(null)}
        />
      </div>
    </RowContext.Provider>
  );
}

function DaySeparator({ day }: { day: string }) {
  const label = longDay(new Date(`${day}T12:00:00`));
  return (
    <div role="separator" aria-label={label} className="mx-4 my-2 flex items-center gap-2 text-xs font-semibold text-muted-foreground">
      <span aria-hidden className="h-px flex-1 bg-border" /> {label} <span aria-hidden className="h-px flex-1 bg-border" />
    </div>
  );
}

function UnreadDivider() {
  return (
    <div data-testid="unread-divider" role="separator" aria-label="New messages" className="mx-4 my-1 flex items-center gap-2 text-xs font-semibold text-destructive">
      <span aria-hidden className="h-px flex-1 bg-destructive" /> New
    </div>
  );
}
