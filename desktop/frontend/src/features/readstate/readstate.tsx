// The read state of the chat (unread.ts) wired to the session: the user's
// read marks, each text channel's latest page counted against its mark,
// and live events on top.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Channel, ID, Key, Message } from "@/api/types";
import { useCountedPage, useInvalidate } from "@/api/queries";
import { useSession } from "@/app/session";
import { noUnread, ReadMarks, unreadReducer, type Unread } from "./unread";

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

/** The read marks and unread counts of the local user, the channel on screen being read. */
export function useReadState(user: Key, open: ID | null): ReadState {
  const { subscribe } = useSession();
  const invalidate = useInvalidate();
  const marks = useMemo(() => new ReadMarks(browserStorage(), user), [user]);
  const [unread, setUnread] = useState<Unread>(noUnread);
  const onScreen = useRef(open);
  onScreen.current = open;
  useEffect(() => subscribe((ev) => setUnread((u) => unreadReducer(u, ev, user, onScreen.current))), [subscribe, user]);

  // The channel opened is read; the one left is counted again against its
  // mark, which stayed behind if the reader had scrolled up.
  useEffect(() => {
    if (open === null) return;
    setUnread((u) => unreadReducer(u, { type: "read", channel: open }, user, open));
    return () => invalidate.pages(open);
  }, [open, user, invalidate]);

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
      setUnread((u) => unreadReducer(u, { type: "counted", channel, messages, lastRead }, user, onScreen.current));
    },
    [marks, user],
  );
  const markRead = useCallback<ReadState["markRead"]>(
    (channel, newest) => {
      if (newest) marks.markRead(channel, newest);
      setUnread((u) => unreadReducer(u, { type: "read", channel }, user, onScreen.current));
    },
    [marks, user],
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
