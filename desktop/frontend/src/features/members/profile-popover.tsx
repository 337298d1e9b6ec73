// A member's profile over the page, opened from their name or avatar (in
// messages and in the member list): avatar, name, status, roles, since
// when they are a member, and their key. Also the member lookup messages
// use for names, name colours and role mentions.

import { useId, useMemo, useState, type ReactNode } from "react";
import { Check, Copy, Crown } from "lucide-react";
import { CallButton } from "@/features/calls/call-button";
import { useAvatar, useMembers } from "@/api/queries";
import type { Community, Key, Member, PresenceStatus } from "@/api/types";
import { useSession } from "@/app/session";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Separator } from "@/components/ui/separator";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { copyText } from "@/components/copy-field";
import { UserAvatar, statusLabel } from "@/components/user-avatar";
import { byPosition, memberLookup, type MemberLookup } from "./group";
import { useRoleTextColor } from "./role-color";
import { RoleDot } from "./role-dot";

/** The community's members by key, and its roles by ID; the same object while neither changes. */
export function useMemberLookup(community: Community): MemberLookup {
  const members = useMembers(community.id);
  return useMemo(() => memberLookup(members.data ?? [], community.roles), [members.data, community.roles]);
}

/** The status shown for a member: live presence over the fetched one. */
export function usePresence(community: Community, member: Member | undefined): PresenceStatus {
  const { chat } = useSession();
  return (member && chat.presence[community.id]?.[member.user]) ?? member?.status ?? "offline";
}

export function ProfilePopover({ community, user, children, side = "right" }: {
  community: Community;
  user: Key;
  children: ReactNode;
  side?: "top" | "right" | "bottom" | "left";
}) {
  const nameId = useId();
  return (
    <Popover>
      <PopoverTrigger asChild>{children}</PopoverTrigger>
      <PopoverContent
        data-testid="profile"
        side={side}
        align="start"
        className="w-72 p-0"
        aria-labelledby={nameId}
        tabIndex={-1}
        // Focus the card itself, not its first button (whose tooltip would open at once).
        onOpenAutoFocus={(e) => {
          e.preventDefault();
          (e.currentTarget as HTMLElement).focus();
        }}
      >
        <Profile community={community} user={user} nameId={nameId} />
      </PopoverContent>
    </Popover>
  );
}

function Profile({ community, user, nameId }: { community: Community; user: Key; nameId: string }) {
  const { self } = useSession();
  const lookup = useMemberLookup(community);
  const member = lookup.memberOf(user);
  const status = usePresence(community, member);
  const name = member?.name ?? user.slice(0, 8);
  const picture = useAvatar(member?.avatar, { community: community.id, user });
  const colorOf = useRoleTextColor();
  const roles = byPosition(community.roles.filter((r) => member?.roles.includes(r.id)));
  return (
    <div className="flex flex-col gap-3 p-4">
      <div className="flex items-center gap-3">
        <UserAvatar user={user} name={name} picture={picture} status={member ? status : undefined} size="lg" />
        <div className="min-w-0">
          <p id={nameId} className="flex items-center gap-1 truncate text-base font-semibold" style={{ color: colorOf(lookup.roleColorOf(user)) }}>
            <span className="truncate">{name}</span>
            {member?.owner && <Crown role="img" aria-label="Owner" className="h-4 w-4 shrink-0 text-warning" />}
          </p>
          <p className="text-xs text-muted-foreground">{member ? statusLabel[status] : "Not a member"}</p>
          {member?.status_text && (
            <p data-testid="profile-status-text" className="mt-0.5 break-words text-sm">
              {member.status_text}
            </p>
          )}
        </div>
      </div>
      {member && user !== self && <CallButton community={community} user={user} />}
      {member && (
        <>
          <Separator />
          <ProfileSection title="Roles">
            {roles.length === 0 ? (
              <p className="text-muted-foreground">No roles</p>
            ) : (
              <ul className="flex flex-wrap gap-1">
                {roles.map((r) => (
                  <li key={r.id}>
                    <Badge variant="outline" className="gap-1.5 font-medium">
                      <RoleDot color={r.color} className="h-2.5 w-2.5" />
                      {r.name}
                    </Badge>
                  </li>
                ))}
              </ul>
            )}
          </ProfileSection>
          <ProfileSection title="Member since">
            <p>{new Date(member.joined_at).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" })}</p>
          </ProfileSection>
        </>
      )}
      <ProfileSection title="Key">
        <KeyLine user={user} />
      </ProfileSection>
    </div>
  );
}

function ProfileSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="grid gap-1 text-sm">
      <h3 className="text-xs font-semibold uppercase text-muted-foreground">{title}</h3>
      {children}
    </section>
  );
}

function KeyLine({ user }: { user: Key }) {
  const [copied, setCopied] = useState(false);
  const label = copied ? "Copied" : "Copy key";
  return (
    <div className="flex items-start gap-1">
      <code className="min-w-0 flex-1 break-all font-mono text-[11px] leading-4 text-muted-foreground">{user}</code>
      <Tooltip>
        <TooltipTrigger asChild>
          <Button
            variant="ghost"
            size="icon-sm"
            aria-label={label}
            onClick={() =>
              void copyText(user).then((ok) => {
                setCopied(ok);
                if (ok) window.setTimeout(() => setCopied(false), 2000);
              })
            }
          >
            {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
          </Button>
        </TooltipTrigger>
        <TooltipContent>{label}</TooltipContent>
      </Tooltip>
    </div>
  );
}
