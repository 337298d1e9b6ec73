// The read state of the chat (unread.ts) wired to the session: the user's
// read marks, each text channel's latest page counted against its mark,
// and live events on top.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Channel, Community, ID, Key, Message } from "@/api/types";
import { useCountedPage, useInvalidate } from "@/api/queries";
import { useSession } from "@/app/session";
import { noUnread, ReadMarks, unreadReducer, type Reader, type Unread } from "./unread";

function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export interface ReadState {
  unread: Unread;
  marks: ReadMarks;
  /** Counts a channel's latest page against its mark. */
  count: (channel: ID, latest: readonly Message[]) => void;
  /** The channel is read up to its newest message (Esc, "mark as read"). */
  markRead: (channel: ID, newest: Message | undefined) => void;
}

/**
 * The read marks and unread counts of the local user, the channel on
 * screen being read; communities give the roles the user holds where
 * (role mentions count as mentions).
 */
export function useReadState(user: Key, open: ID | null, communities: readonly Community[]): ReadState {
  const { subscribe } = useSession();
  const invalidate = useInvalidate();
  const marks = useMemo(() => new ReadMarks(browserStorage(), user), [user]);
  const [unread, setUnread] = useState<Unread>(noUnread);
  const onScreen = useRef(open);
  onScreen.current = open;
  // The roles as of now, whenever an event comes: a ref, so the event subscription stays put.
  const roles = useRef(new Map<ID, readonly ID[]>());
  roles.current = new Map(communities.flatMap((c) => c.channels.map((ch) => [ch.id, c.my_roles] as const)));
  const reader = useMemo<Reader>(() => ({ user, rolesIn: (channel) => roles.current.get(channel) ?? [] }), [user]);
  useEffect(() => subscribe((ev) => setUnread((u) => unreadReducer(u, ev, reader, onScreen.current))), [subscribe, reader]);

  // The channel opened is read; the one left is counted again against its
  // mark, which stayed behind if the reader had scrolled up.
  useEffect(() => {
    if (open === null) return;
    setUnread((u) => unreadReducer(u, { type: "read", channel: open }, reader, open));
    return () => invalidate.pages(open);
  }, [open, reader, invalidate]);

  const count = useCallback<ReadState["count"]>(
    (channel, messages) => {
      const lastRead = marks.get(channel);
      if (lastRead === null) {
        // First seen on this device: what is there is taken as read.
        const newest = messages[messages.length - 1];
        if (newest) marks.markRead(channel, newest);
        else marks.markSeen(channel, new Date().toISOString());
        return;
      }
      setUnread((u) => unreadReducer(u, { type: "counted", channel, messages, lastRead }, reader, onScreen.current));
    },
    [marks, reader],
  );
  const markRead = useCallback<ReadState["markRead"]>(
    (channel, newest) => {
      if (newest) marks.markRead(channel, newest);
      setUnread((u) => unreadReducer(u, { type: "read", channel }, reader, onScreen.current));
    },
    [marks, reader],
  );
  return { unread, marks, count, markRead };
}

/** Fetches a text channel's latest messages for its unread count; shows nothing. */
export function UnreadCounter({ channel, count }: { channel: Channel; count: ReadState["count"] }) {
  const latest = useCountedPage(channel.id);
  const counted = useRef(count);
  counted.current = count;
  useEffect(() => {
    if (latest.data) counted.current(channel.id, latest.data);
  }, [latest.data, channel.id]);
  return null;
}
