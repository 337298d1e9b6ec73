// The bar above the messages: the channel's name and topic, the drawer
// button in narrow windows, and the member list toggle.

import { Hash, Menu, Search, Users } from "lucide-react";
import type { Channel } from "@/api/types";
import { Button } from "@/components/ui/button";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { Markdown } from "@/lib/markdown";

function IconButton({ label, onClick, pressed, testId, children }: { label: string; onClick: () => void; pressed?: boolean; testId: string; children: React.ReactNode }) {
  return (
    <Tooltip>
      <TooltipTrigger asChild>
        <Button variant="ghost" size="icon" aria-label={label} aria-pressed={pressed} data-testid={testId} onClick={onClick}>
          {children}
        </Button>
      </TooltipTrigger>
      <TooltipContent>{label}</TooltipContent>
    </Tooltip>
  );
}

export function ChannelHeader({ channel, title, onDrawer, membersShown, onMembers, onSwitcher }: {
  channel: Channel | null;
  /** What the header says without a channel (a community with none). */
  title: string;
  /** Opens the channels drawer; absent when the sidebar is on screen. */
  onDrawer?: () => void;
  membersShown: boolean;
  onMembers?: () => void;
  onSwitcher: () => void;
}) {
  return (
    <header className="flex h-12 shrink-0 items-center gap-2 border-b px-2 shadow-sm sm:px-4">
      {onDrawer && (
        <IconButton label="Channels and communities" testId="drawer-open" onClick={onDrawer}>
          <Menu aria-hidden />
        </IconButton>
      )}
      {channel ? (
        <>
          <Hash aria-hidden className="h-5 w-5 shrink-0 text-muted-foreground" />
          <h1 className="shrink-0 font-semibold">{channel.name}</h1>
          {channel.topic && (
            <div data-testid="channel-topic" className="hidden min-w-0 truncate border-l pl-2 text-sm text-muted-foreground md:block [&_p]:inline">
              <Markdown text={channel.topic} nameOf={() => undefined} />
            </div>
          )}
        </>
      ) : (
        <h1 className="truncate font-semibold">{title}</h1>
      )}
      <div className="ml-auto flex shrink-0 items-center gap-1">
        <IconButton label="Quick switcher (Ctrl+K)" testId="switcher-open" onClick={onSwitcher}>
          <Search aria-hidden />
        </IconButton>
        {onMembers && (
          <IconButton label={membersShown ? "Hide the member list" : "Show the member list"} testId="members-toggle" pressed={membersShown} onClick={onMembers}>
            <Users aria-hidden />
          </IconButton>
        )}
      </div>
    </header>
  );
}
