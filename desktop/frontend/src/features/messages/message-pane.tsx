// The message pane under the channel header: the message list and the
// composer. The channel's latest page joins its window in the chat state;
// the rows are grouped by author and day with the unread divider where the
// read mark was when the channel was opened. Esc (when nothing in the pane
// uses it) cancels a reply, or else marks the channel read: the divider and
// the new-messages bar go.

import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { latestPageSize, useLatestPage, useMembers } from "@/api/queries";
import type { Channel, Community, ID, Message } from "@/api/types";
import { useSession } from "@/app/session";
import { Composer, type ReplyTarget } from "@/features/composer/composer";
import { browserDrafts, loadDraft } from "@/features/composer/drafts";
import { useMemberLookup } from "@/features/members/profile-popover";
import { readableRoleColor } from "@/features/members/role-color";
import type { ReadMarks } from "@/features/readstate/unread";
import { useResolvedTheme } from "@/features/settings/theme";
import { messageRows, type Row } from "@/lib/group";
import type { Mentionable, MentionableRole } from "@/lib/mentions";
import { MessageList, type ListShared } from "./message-list";
import { shortKey } from "./message-row";
import { unreadSummary } from "./new-messages-bar";

const noMessages: readonly Message[] = [];
const noRoles: readonly ID[] = [];

export function MessagePane({ community, channel, marks, onMarkRead }: {
  community: Community;
  channel: Channel;
  marks: ReadMarks;
  /** Marks the channel read up to its newest message (Esc, "Mark as read"). */
  onMarkRead?: () => void;
}) {
  const { chat, dispatch, self } = useSession();
  const lookup = useMemberLookup(community);
  const theme = useResolvedTheme();
  const members = useMembers(community.id);
  const mentionable = useMemo<Mentionable[]>(
    () => (members.data ?? []).filter((m) => m.state === "joined").map((m) => ({ user: m.user, name: m.name })),
    [members.data],
  );
  const roles = useMemo<MentionableRole[]>(
    () => community.roles.filter((r) => r.id !== community.id).map((r) => ({ role: r.id, name: r.name })),
    [community.roles, community.id],
  );

  // The latest page; refetched when a bulk sync says the channel changed.
  const latest = useLatestPage(channel.id);
  useEffect(() => {
    if (latest.data) dispatch({ type: "page", channel: channel.id, page: { limit: latestPageSize }, messages: latest.data });
  }, [latest.data, channel.id, dispatch]);

  const win = chat.windows[channel.id];
  const messages = win?.messages ?? noMessages;
  const hasOlder = win !== undefined && !win.atOldest;
  // Where the divider goes: the mark as it was when the channel was opened.
  const [lastRead, setLastRead] = useState(() => marks.get(channel.id));
  const built = useRef<Row[]>([]);
  const rows = useMemo(() => (built.current = messageRows(messages, { lastRead, self, hasOlder }, built.current)), [messages, lastRead, self, hasOlder]);
  const unread = useMemo(() => unreadSummary(rows, self), [rows, self]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const lastOwn = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) if ((messages[i] as Message).author === self) return messages[i] as Message;
    return null;
  }, [messages, self]);
  const onRead = useCallback((m: Message) => marks.markRead(channel.id, m), [marks, channel.id]);

  // The reply being written, kept with the channel's draft.
  const [replyId, setReplyId] = useState<ID | null>(() => loadDraft(browserDrafts(), channel.id)?.replyTo ?? null);
  const replied = replyId === null ? undefined : byId.get(replyId);
  const replyName = replied ? (lookup.nameOf(replied.author) ?? shortKey(replied.author)) : null;
  const reply = useMemo<ReplyTarget | null>(() => (replyId === null ? null : { id: replyId, name: replyName }), [replyId, replyName]);
  const onReply = useCallback((m: Message) => setReplyId(m.id), []);

  const markRead = useCallback(() => {
    setLastRead(null);
    if (onMarkRead) onMarkRead();
    else {
      const newest = messages[messages.length - 1];
      if (newest) marks.markRead(channel.id, newest);
    }
  }, [onMarkRead, messages, marks, channel.id]);

  const myRoles = lookup.memberOf(self)?.roles ?? noRoles;
  const shared = useMemo<ListShared>(
    () => ({
      community,
      self,
      myRoles,
      nameOf: lookup.nameOf,
      avatarOf: lookup.avatarOf,
      roleOf: lookup.roleOf,
      nameColorOf: (user) => readableRoleColor(lookup.roleColorOf(user), theme),
      members: mentionable,
      roles,
    }),
    [community, self, myRoles, lookup, theme, mentionable, roles],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    // Only Esc pressed in the pane itself, not in a menu or dialog portalled from it.
    if (e.key !== "Escape" || e.defaultPrevented || !e.currentTarget.contains(e.target as Node)) return;
    if (replyId !== null) setReplyId(null);
    else markRead();
  };

  return (
    <div className="flex min-h-0 flex-1 flex-col" onKeyDown={onKeyDown}>
      <MessageList
        channel={channel}
        win={win}
        rows={rows}
        byId={byId}
        shared={shared}
        unread={unread}
        onRead={onRead}
        onReply={onReply}
        onMarkRead={markRead}
      />
      <Composer
        key={channel.id}
        channel={channel}
        members={mentionable}
        roles={roles}
        nameOf={lookup.nameOf}
        roleNameOf={(id) => lookup.roleOf(id)?.name}
        lastOwn={lastOwn}
        reply={reply}
        onReplyDone={() => setReplyId(null)}
      />
    </div>
  );
}
