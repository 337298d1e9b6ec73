// The member list beside the messages: online members under their highest
// role, then the rest online, then those offline (dimmed). A row opens the
// member's profile.

import { forwardRef, useId, type ComponentPropsWithoutRef } from "react";
import { Crown } from "lucide-react";
import { useAvatar, useMembers } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { ScrollArea } from "@/components/ui/scroll-area";
import { UserAvatar } from "@/components/user-avatar";
import { cn } from "@/lib/utils";
import { byPosition, groupMembers, highestRole, type MemberRow, type MemberSection } from "./group";
import { ProfilePopover } from "./profile-popover";
import { useRoleTextColor } from "./role-color";

export function MemberList({ community }: { community: Community }) {
  const { chat } = useSession();
  const members = useMembers(community.id);
  const sections = groupMembers(members.data ?? [], community.roles, chat.presence[community.id], community.id);
  return (
    // The viewport's table wrapper would let long names widen the list instead of truncating.
    <ScrollArea className="h-full w-full" viewportProps={{ className: "[&>div]:!block" }}>
      <div className="flex flex-col gap-4 px-2 py-3">
        {members.isPending && <p className="px-2 text-muted-foreground">Loading members…</p>}
        {sections.map((s) => (
          <MemberGroup key={s.key} community={community} section={s} />
        ))}
      </div>
    </ScrollArea>
  );
}

function MemberGroup({ community, section }: { community: Community; section: MemberSection }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId} className="truncate px-2 pb-1 text-xs font-semibold uppercase text-muted-foreground">
        {section.title} — {section.rows.length}
      </h3>
      <ul>
        {section.rows.map((row) => (
          <li key={row.member.user}>
            <ProfilePopover community={community} user={row.member.user} side="left">
              <MemberButton community={community} row={row} />
            </ProfilePopover>
          </li>
        ))}
      </ul>
    </section>
  );
}

const MemberButton = forwardRef<HTMLButtonElement, { community: Community; row: MemberRow } & ComponentPropsWithoutRef<"button">>(
  ({ community, row, className, ...props }, ref) => {
    const { member, status } = row;
    const colorOf = useRoleTextColor();
    const offline = status === "offline";
    const picture = useAvatar(member.avatar, { community: community.id, user: member.user });
    const color = offline ? undefined : highestRole(member, byPosition(community.roles), (r) => r.color !== 0)?.color;
    return (
      <button
        ref={ref}
        type="button"
        data-testid="member"
        data-status={status}
        className={cn(
          "flex w-full items-center gap-2 rounded-md px-2 py-1 text-left hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring data-[state=open]:bg-accent",
          className,
        )}
        {...props}
      >
        <UserAvatar
          user={member.user}
          name={member.name}
          picture={picture}
          status={status}
          className={cn(offline && "grayscale")}
        />
        <span className="min-w-0">
          <span
            className={cn("block truncate font-medium", offline ? "text-muted-foreground" : "text-sidebar-foreground")}
            style={color ? { color: colorOf(color) } : undefined}
          >
            {member.name}
          </span>
          {member.status_text && !offline && <span className="block truncate text-xs text-muted-foreground">{member.status_text}</span>}
        </span>
        {member.owner && <Crown role="img" aria-label="Owner" className="h-3.5 w-3.5 shrink-0 text-warning" />}
      </button>
    );
  },
);
MemberButton.displayName = "MemberButton";
