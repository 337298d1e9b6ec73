// The community rail, Discord's left column: an icon per community with
// its unread dot or mention count, then create and join.

import { useState } from "react";
import { LogIn, Plus } from "lucide-react";
import type { Community } from "@/api/types";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { initials } from "@/components/user-avatar";
import type { Unread } from "@/features/readstate/unread";
import { cn } from "@/lib/utils";
import { CreateCommunityDialog, JoinCommunityDialog } from "./community-dialogs";

/** A community's unread messages and mentions, over its channels. */
export function communityUnread(c: Community, unread: Unread): { count: number; mentions: number } {
  let count = 0;
  let mentions = 0;
  for (const ch of c.channels) {
    const u = unread.channels[ch.id];
    if (u) {
      count += u.count;
      mentions += u.mentions;
    }
  }
  return { count, mentions };
}

function RailButton({ label, children, ...props }: { label: string; children: React.ReactNode } & React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <Tooltip>
      <TooltipTrigger asChild>
        <button aria-label={label} {...props}>
          {children}
        </button>
      </TooltipTrigger>
      <TooltipContent side="right">{label}</TooltipContent>
    </Tooltip>
  );
}

const iconClass =
  "relative flex h-12 w-12 items-center justify-center rounded-3xl text-base font-semibold transition-all hover:rounded-xl focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring";

export function Rail({ communities, current, unread, onSelect }: {
  communities: Community[];
  current: Community | null;
  unread: Unread;
  onSelect: (id: string) => void;
}) {
  const [dialog, setDialog] = useState<"create" | "join" | null>(null);
  return (
    <nav className="flex h-full w-[72px] shrink-0 flex-col items-center gap-2 overflow-y-auto bg-rail py-3" aria-label="Communities">
      {communities.map((c) => {
        const selected = c.id === current?.id;
        const { count, mentions } = communityUnread(c, unread);
        const label = `${c.name}${mentions > 0 ? `, ${mentions} mention${mentions === 1 ? "" : "s"}` : count > 0 ? ", unread messages" : ""}`;
        return (
          <RailButton
            key={c.id}
            label={label}
            data-testid="community-icon"
            aria-current={selected ? "page" : undefined}
            onClick={() => onSelect(c.id)}
            className={cn(iconClass, selected ? "rounded-xl bg-primary text-primary-foreground" : "bg-background text-foreground")}
          >
            {c.icon ? <img src={`data:image/png;base64,${c.icon}`} alt="" className="h-12 w-12 rounded-[inherit] object-cover" /> : initials(c.name)}
            {!selected && mentions > 0 && (
              <span
                data-testid="mention-badge"
                aria-hidden
                className="absolute -bottom-1 -right-1 min-w-5 rounded-full border-2 border-rail bg-destructive px-1 text-center text-[11px] font-bold leading-4 text-destructive-foreground"
              >
                {mentions}
              </span>
            )}
            {!selected && mentions === 0 && count > 0 && (
              <span data-testid="unread-dot" aria-hidden className="absolute -left-3 top-1/2 h-2 w-2 -translate-y-1/2 rounded-full bg-foreground" />
            )}
          </RailButton>
        );
      })}
      <div className="mx-auto h-px w-8 bg-border" />
      <RailButton label="Create a community" data-testid="create-community" onClick={() => setDialog("create")} className={cn(iconClass, "bg-background text-success")}>
        <Plus aria-hidden className="h-6 w-6" />
      </RailButton>
      <RailButton label="Join with an invite" data-testid="join-community" onClick={() => setDialog("join")} className={cn(iconClass, "bg-background text-success")}>
        <LogIn aria-hidden className="h-5 w-5" />
      </RailButton>
      <CreateCommunityDialog open={dialog === "create"} onOpenChange={(o) => setDialog(o ? "create" : null)} onDone={onSelect} />
      <JoinCommunityDialog open={dialog === "join"} onOpenChange={(o) => setDialog(o ? "join" : null)} onDone={onSelect} />
    </nav>
  );
}
