// The chat layout, Discord's: the community rail, the channel sidebar with
// the user panel, the message pane and the member list. Below 768 px the
// rail and the channels move into a drawer; below 1024 px the member list
// opens over the messages instead of beside them. Also the app-wide keys:
// Ctrl+K (quick switcher) and Alt+↑/↓ (previous/next channel), and the
// unread count in the tab's title.

import { useEffect, useState } from "react";
import { useCommunities } from "@/api/queries";
import type { Channel, Community, ID, Me } from "@/api/types";
import { Sheet, SheetContent, SheetDescription, SheetTitle } from "@/components/ui/sheet";
import { ChannelHeader } from "@/features/channels/channel-header";
import { ChannelSidebar } from "@/features/channels/channel-sidebar";
import { UserPanel } from "@/features/channels/user-panel";
import { Rail, communityUnread } from "@/features/communities/rail";
import { MemberList } from "@/features/members/member-list";
import { MessagePane } from "@/features/messages/message-pane";
import { UnreadCounter, useReadState } from "@/features/readstate/readstate";
import type { Unread } from "@/features/readstate/unread";
import { QuickSwitcher } from "@/features/switcher/quick-switcher";
import { CallView } from "@/features/calls/call-view";
import { useMediaQuery } from "@/hooks/use-media-query";
import { messagesIn } from "@/lib/reducer";
import { useSession } from "./session";
import { usePlace } from "./navigation";

/** The tab's title: the unread mentions (or a dot for unread messages), where the user is. */
export function tabTitle(communities: readonly Community[], unread: Unread, channel: Channel | null, community: Community | null): string {
  let count = 0;
  let mentions = 0;
  for (const c of communities) {
    const u = communityUnread(c, unread);
    count += u.count;
    mentions += u.mentions;
  }
  const badge = mentions > 0 ? `(${mentions}) ` : count > 0 ? "• " : "";
  const where = channel && community ? `#${channel.name} | ${community.name} - ` : community ? `${community.name} - ` : "";
  return `${badge}${where}Ancore`;
}

/** The text channel after (delta 1) or before (-1) the current one, or null at an end. */
export function adjacentChannel(community: Community, current: ID | null, delta: 1 | -1): Channel | null {
  const text = community.channels.filter((c) => c.type === "text");
  const i = text.findIndex((c) => c.id === current);
  return text[i + delta] ?? null;
}

export function Shell({ me }: { me: Me }) {
  const { chat } = useSession();
  const communities = useCommunities();
  const { place, go } = usePlace(me.user);
  // Communities left, or kicked or banned from, leave the rail.
  const list = (communities.data ?? []).filter((c) => c.member);
  const current = list.find((c) => c.id === place.community) ?? list[0] ?? null;
  const remembered = current ? place.channels[current.id] : undefined;
  const channel = current?.channels.find((c) => c.id === remembered && c.type === "text") ?? current?.channels.find((c) => c.type === "text") ?? null;
  const reads = useReadState(me.user, channel?.id ?? null, list);

  const wide = useMediaQuery("(min-width: 1024px)");
  const roomy = useMediaQuery("(min-width: 768px)");
  const [drawer, setDrawer] = useState(false);
  const [membersInline, setMembersInline] = useState(true);
  const [membersSheet, setMembersSheet] = useState(false);
  const [switcher, setSwitcher] = useState(false);

  const openChannel = (community: ID, ch: ID | null) => {
    go(community, ch);
    setDrawer(false);
  };

  useEffect(() => {
    document.title = tabTitle(list, reads.unread, channel, current);
  });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setSwitcher((s) => !s);
      } else if (e.altKey && !e.ctrlKey && (e.key === "ArrowUp" || e.key === "ArrowDown") && current) {
        const next = adjacentChannel(current, channel?.id ?? null, e.key === "ArrowDown" ? 1 : -1);
        if (next) {
          e.preventDefault();
          go(current.id, next.id);
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [current, channel, go]);

  const rail = <Rail communities={list} current={current} unread={reads.unread} onSelect={(id) => openChannel(id, null)} />;
  const sidebar = current ? (
    <ChannelSidebar
      community={current}
      channel={channel?.id ?? null}
      onChannel={(id) => openChannel(current.id, id)}
      me={me}
      unread={reads.unread}
      onLeft={() => go(list.find((c) => c.id !== current.id)?.id ?? "", null)}
    />
  ) : (
    <aside className="flex h-full w-60 shrink-0 flex-col justify-end bg-sidebar" aria-label="You">
      <UserPanel me={me} />
    </aside>
  );
  const navigation = (
    <div className="flex h-full">
      {rail}
      {sidebar}
    </div>
  );
  const membersShown = wide ? membersInline : membersSheet;

  return (
    <div className="flex h-full text-sm">
      {list.flatMap((c) => c.channels).filter((c) => c.type === "text").map((c) => (
        <UnreadCounter key={c.id} channel={c} count={reads.count} />
      ))}
      {roomy ? (
        navigation
      ) : (
        <Sheet open={drawer} onOpenChange={setDrawer}>
          <SheetContent side="left" className="w-auto max-w-none p-0 sm:max-w-none" data-testid="drawer">
            <SheetTitle className="sr-only">Communities and channels</SheetTitle>
            <SheetDescription className="sr-only">Choose a community and a channel</SheetDescription>
            {navigation}
          </SheetContent>
        </Sheet>
      )}
      <main className="flex min-w-0 flex-1 flex-col bg-background" aria-label={channel ? `#${channel.name}` : "Messages"}>
        <ChannelHeader
          channel={channel}
          title={current ? current.name : "Ancore"}
          onDrawer={roomy ? undefined : () => setDrawer(true)}
          membersShown={membersShown}
          onMembers={current ? () => (wide ? setMembersInline((s) => !s) : setMembersSheet((s) => !s)) : undefined}
          onSwitcher={() => setSwitcher(true)}
        />
        <CallView />
        {current && channel ? (
          <MessagePane
            key={channel.id}
            community={current}
            channel={channel}
            marks={reads.marks}
            onMarkRead={() => {
              const msgs = messagesIn(chat, channel.id);
              reads.markRead(channel.id, msgs[msgs.length - 1]);
            }}
          />
        ) : (
          <div className="m-auto max-w-sm p-6 text-center text-muted-foreground">
            {current ? (
              <p>No text channel yet.</p>
            ) : (
              <>
                <p className="mb-2 text-base font-medium text-foreground">You are in no community yet.</p>
                <p>Create one, or join one with an invite link, from the rail{roomy ? " on the left" : " (the menu button above)"}.</p>
              </>
            )}
          </div>
        )}
      </main>
      {current && wide && membersInline && (
        <aside className="h-full w-60 shrink-0 bg-sidebar" aria-label="Members">
          <MemberList community={current} />
        </aside>
      )}
      {current && !wide && (
        <Sheet open={membersSheet} onOpenChange={setMembersSheet}>
          <SheetContent side="right" className="w-64 bg-sidebar p-0 pt-10" data-testid="members-sheet">
            <SheetTitle className="sr-only">Members</SheetTitle>
            <SheetDescription className="sr-only">The members of {current.name}</SheetDescription>
            <MemberList community={current} />
          </SheetContent>
        </Sheet>
      )}
      <QuickSwitcher open={switcher} onOpenChange={setSwitcher} communities={list} unread={reads.unread} onSelect={openChannel} />
    </div>
  );
}
