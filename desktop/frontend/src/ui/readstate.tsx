// The read state of the chat (src/ui/unread.ts) wired to the session: the
// user's read marks, each text channel's latest page counted against its
// mark, and live events on top.

import { useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { Channel, ID, Key, Message } from "../lib/api";
import { useSession } from "./context";
import { countedPage, noUnread, ReadMarks, unreadReducer, type Unread } from "./unread";

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
}

/** The read marks and unread counts of the local user, the channel on screen being read. */
export function useReadState(user: Key, open: ID | null): ReadState {
  const { subscribe } = useSession();
  const queries = useQueryClient();
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
    return () => void queries.invalidateQueries({ queryKey: ["unread", open] });
  }, [open, user, queries]);

  const count: ReadState["count"] = (channel, messages) => {
    const lastRead = marks.get(channel);
    if (lastRead === null) {
      // First seen on this device: what is there is taken as read.
      const newest = messages[messages.length - 1];
      if (newest) marks.markRead(channel, newest);
      else marks.markSeen(channel, new Date().toISOString());
      return;
    }
    setUnread((u) => unreadReducer(u, { type: "counted", channel, messages, lastRead }, user, onScreen.current));
  };
  return { unread, marks, count };
}

/** Fetches a text channel's latest messages for its unread count; shows nothing. */
export function UnreadCounter({ channel, count }: { channel: Channel; count: ReadState["count"] }) {
  const { client } = useSession();
  const latest = useQuery({
    queryKey: ["unread", channel.id],
    queryFn: ({ signal }) => client.messages(channel.id, { limit: countedPage }, { signal }),
    staleTime: Infinity,
  });
  const counted = useRef(count);
  counted.current = count;
  useEffect(() => {
    if (latest.data) counted.current(channel.id, latest.data);
  }, [latest.data, channel.id]);
  return null;
}
