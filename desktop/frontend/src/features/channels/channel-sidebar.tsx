// The channel sidebar: the community's menu (invite, create channel,
// settings, leave), its text and voice channels — reordered by dragging
// for those who manage channels — and the user panel at the bottom.

import { useState, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { DndContext, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import { SortableContext, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { ChevronDown, DoorOpen, Hash, Plus, Settings, UserPlus, Volume2 } from "lucide-react";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Channel, Community, Me } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { ContextMenu, ContextMenuContent, ContextMenuItem, ContextMenuTrigger } from "@/components/ui/context-menu";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { ScrollArea } from "@/components/ui/scroll-area";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import type { Unread } from "@/features/readstate/unread";
import { CommunitySettings } from "@/features/settings/community-settings";
import { InviteDialog } from "@/features/settings/invite-dialog";
import { LeaveDialog } from "@/features/settings/leave-dialog";
import { copyText } from "@/components/copy-field";
import { toastError } from "@/lib/errors";
import { cn } from "@/lib/utils";
import { CreateChannelDialog, EditChannelDialog } from "./channel-dialogs";
import { reorderChannels } from "./order";
import { UserPanel } from "./user-panel";

type Dialog = "invite" | "channel" | "settings" | "leave";

export function ChannelSidebar({ community, channel, onChannel, me, unread, onLeft }: {
  community: Community;
  channel: string | null;
  onChannel: (id: string) => void;
  me: Me;
  unread: Unread;
  onLeft: () => void;
}) {
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [editing, setEditing] = useState<Channel | null>(null);
  const can = (p: Community["my_permissions"][number]) => community.my_permissions.includes(p);
  const open = (d: Dialog) => (o: boolean) => setDialog(o ? d : null);
  return (
    <aside className="flex h-full w-60 shrink-0 flex-col bg-sidebar text-sidebar-foreground" aria-label={`${community.name} channels`}>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <button
            data-testid="community-menu"
            className="flex h-12 w-full shrink-0 items-center justify-between border-b px-4 font-semibold text-foreground hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-ring"
          >
            <span className="truncate">{community.name}</span>
            <ChevronDown aria-hidden className="h-4 w-4" />
          </button>
        </DropdownMenuTrigger>
        <DropdownMenuContent className="w-56" align="start">
          {can("create-invites") && (
            <DropdownMenuItem data-testid="invite-open" onSelect={() => setDialog("invite")}>
              <UserPlus aria-hidden /> Invite people
            </DropdownMenuItem>
          )}
          {can("manage-channels") && (
            <DropdownMenuItem data-testid="channel-new" onSelect={() => setDialog("channel")}>
              <Plus aria-hidden /> Create channel
            </DropdownMenuItem>
          )}
          <DropdownMenuItem data-testid="settings-open" onSelect={() => setDialog("settings")}>
            <Settings aria-hidden /> Community settings
          </DropdownMenuItem>
          {community.owner !== me.user && (
            <>
              <DropdownMenuSeparator />
              <DropdownMenuItem destructive data-testid="leave-open" onSelect={() => setDialog("leave")}>
                <DoorOpen aria-hidden /> Leave community
              </DropdownMenuItem>
            </>
          )}
        </DropdownMenuContent>
      </DropdownMenu>
      <ScrollArea className="flex-1">
        <nav className="px-2 py-3" aria-label="Channels">
          {(["text", "voice"] as const).map((type) => (
            <ChannelGroup
              key={type}
              type={type}
              community={community}
              channels={community.channels.filter((c) => c.type === type)}
              current={channel}
              unread={unread}
              onChannel={onChannel}
              onEdit={setEditing}
              onCreate={can("manage-channels") ? () => setDialog("channel") : undefined}
            />
          ))}
        </nav>
      </ScrollArea>
      <UserPanel me={me} />
      <InviteDialog community={community} open={dialog === "invite"} onOpenChange={open("invite")} />
      <CreateChannelDialog community={community} open={dialog === "channel"} onOpenChange={open("channel")} onCreated={onChannel} />
      <CommunitySettings community={community} open={dialog === "settings"} onOpenChange={open("settings")} />
      <LeaveDialog community={community} open={dialog === "leave"} onOpenChange={open("leave")} onLeft={onLeft} />
      {editing && <EditChannelDialog key={editing.id} channel={editing} onOpenChange={(o) => !o && setEditing(null)} />}
    </aside>
  );
}

function ChannelGroup({ type, community, channels, current, unread, onChannel, onEdit, onCreate }: {
  type: "text" | "voice";
  community: Community;
  channels: Channel[];
  current: string | null;
  unread: Unread;
  onChannel: (id: string) => void;
  onEdit: (c: Channel) => void;
  onCreate?: () => void;
}) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const manage = community.my_permissions.includes("manage-channels");
  // Dragging is for the pointer; keyboard users move channels from the
  // row's context menu (a keyboard sensor on the row would take its Enter).
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }));
  const move = useMutation({
    mutationFn: (moves: { id: string; position: number }[]) =>
      Promise.all(moves.map((m) => data(api.PATCH("/channels/{id}", { params: { path: { id: m.id } }, body: { position: m.position } })))),
    onSettled: () => invalidate.communities(),
    onError: (err, moves) => toastError("Could not move the channel", err, () => move.mutate(moves)),
  });
  const reorder = (moved: string, target: string | undefined) => {
    const moves = target === undefined ? [] : reorderChannels(channels, moved, target);
    if (moves.length > 0) move.mutate(moves);
  };
  const onDragEnd = (e: DragEndEvent) => reorder(String(e.active.id), e.over ? String(e.over.id) : undefined);
  const moveBy = (c: Channel, delta: number) => reorder(c.id, channels[channels.indexOf(c) + delta]?.id);
  const title = type === "text" ? "Text channels" : "Voice channels";
  return (
    <div className="mb-3">
      <div className="flex items-center justify-between px-2 pb-1">
        <h2 className="text-xs font-semibold uppercase text-muted-foreground">{title}</h2>
        {onCreate && (
          <Tooltip>
            <TooltipTrigger asChild>
              <Button variant="ghost" size="icon-sm" className="h-5 w-5" aria-label={`Create a ${type} channel`} onClick={onCreate}>
                <Plus aria-hidden />
              </Button>
            </TooltipTrigger>
            <TooltipContent>Create channel</TooltipContent>
          </Tooltip>
        )}
      </div>
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={channels.map((c) => c.id)} strategy={verticalListSortingStrategy} disabled={!manage}>
          <ul className="grid gap-0.5">
            {channels.map((c) => (
              <SortableChannel key={c.id} channel={c} manage={manage}>
                <ChannelRow channel={c} selected={c.id === current} unread={unread} manage={manage} onChannel={onChannel} onEdit={onEdit} onMove={(d) => moveBy(c, d)} />
              </SortableChannel>
            ))}
          </ul>
        </SortableContext>
      </DndContext>
    </div>
  );
}

function SortableChannel({ channel, manage, children }: { channel: Channel; manage: boolean; children: ReactNode }) {
  // Only the pointer drags (the row's button stays the focus target), so
  // the sortable's keyboard attributes (role, tabindex, aria-disabled) are
  // not put on the row.
  const { listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: channel.id, disabled: !manage });
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      className={cn("group relative", isDragging && "z-10 opacity-80")}
      {...(manage ? listeners : {})}
    >
      {children}
    </li>
  );
}

function ChannelRow({ channel, selected, unread, manage, onChannel, onEdit, onMove }: {
  channel: Channel;
  selected: boolean;
  unread: Unread;
  manage: boolean;
  onChannel: (id: string) => void;
  onEdit: (c: Channel) => void;
  onMove: (delta: -1 | 1) => void;
}) {
  const u = unread.channels[channel.id];
  const mentions = u?.mentions ?? 0;
  const Icon = channel.type === "text" ? Hash : Volume2;
  const label = `${channel.name}${channel.type === "voice" ? " (voice)" : ""}${mentions > 0 ? `, ${mentions} mention${mentions === 1 ? "" : "s"}` : u ? ", unread" : ""}`;
  return (
    <ContextMenu>
      <ContextMenuTrigger asChild>
        <div>
          <button
            data-testid="channel"
            data-name={channel.name}
            data-unread={u ? "true" : undefined}
            aria-label={label}
            aria-current={selected ? "page" : undefined}
            disabled={channel.type === "voice"}
            onClick={() => onChannel(channel.id)}
            className={cn(
              "flex w-full items-center gap-1.5 rounded px-2 py-1 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring disabled:cursor-not-allowed",
              selected ? "bg-accent font-medium text-accent-foreground" : u ? "font-semibold text-foreground hover:bg-accent/60" : "text-muted-foreground hover:bg-accent/60 hover:text-foreground",
            )}
          >
            <Icon aria-hidden className="h-4 w-4 shrink-0 opacity-70" />
            <span className="flex-1 truncate">{channel.name}</span>
            {mentions > 0 && <span className="rounded-full bg-destructive px-1.5 text-[11px] font-bold text-destructive-foreground">{mentions}</span>}
          </button>
          {manage && (
            <Tooltip>
              <TooltipTrigger asChild>
                <Button
                  variant="ghost"
                  size="icon-sm"
                  data-testid="channel-edit"
                  aria-label={`Edit ${channel.name}`}
                  onClick={() => onEdit(channel)}
                  className="absolute right-1 top-0.5 h-6 w-6 opacity-0 focus-visible:opacity-100 group-hover:opacity-100"
                >
                  <Settings aria-hidden />
                </Button>
              </TooltipTrigger>
              <TooltipContent>Edit channel</TooltipContent>
            </Tooltip>
          )}
        </div>
      </ContextMenuTrigger>
      <ContextMenuContent className="w-48">
        {channel.type === "text" && <ContextMenuItem onSelect={() => onChannel(channel.id)}>Open</ContextMenuItem>}
        {manage && (
          <>
            <ContextMenuItem onSelect={() => onEdit(channel)}>Edit channel</ContextMenuItem>
            <ContextMenuItem onSelect={() => onMove(-1)}>Move up</ContextMenuItem>
            <ContextMenuItem onSelect={() => onMove(1)}>Move down</ContextMenuItem>
          </>
        )}
        <ContextMenuItem onSelect={() => void copyText(channel.id)}>Copy channel ID</ContextMenuItem>
      </ContextMenuContent>
    </ContextMenu>
  );
}
