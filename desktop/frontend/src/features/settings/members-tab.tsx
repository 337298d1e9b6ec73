// The community's members: their roles (for those who manage roles), and
// kicking or banning them, each after a confirmation. Neither is offered
// for the owner or for oneself.

import { useMutation } from "@tanstack/react-query";
import { ChevronDown, Crown } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate, useMembers } from "@/api/queries";
import type { Community, Member, Role } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuCheckboxItem,
  DropdownMenuContent,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { UserAvatar } from "@/components/user-avatar";
import { byPosition } from "@/features/members/group";
import { toastError } from "@/lib/errors";
import { ConfirmAction } from "./confirm-action";
import { RoleDot } from "@/features/members/role-dot";

export function MembersTab({ community }: { community: Community }) {
  const members = useMembers(community.id);
  const joined = (members.data ?? []).filter((m) => m.state === "joined").sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
  const roles = byPosition(community.roles.filter((r) => r.id !== community.id));
  if (members.isPending) return <p className="text-muted-foreground">Loading members…</p>;
  return (
    <ul className="flex flex-col" aria-label="Members">
      {joined.map((m) => (
        <MemberRow key={m.user} community={community} member={m} roles={roles} />
      ))}
    </ul>
  );
}

function MemberRow({ community, member, roles }: { community: Community; member: Member; roles: Role[] }) {
  const { self } = useSession();
  const can = (p: Community["my_permissions"][number]) => community.my_permissions.includes(p);
  const actionable = member.user !== self && !member.owner;
  return (
    <li data-testid="settings-member" className="flex flex-wrap items-center gap-2 border-t py-2 first:border-t-0">
      <UserAvatar user={member.user} name={member.name} />
      <span className="flex min-w-0 flex-1 items-center gap-1">
        <span className="truncate font-medium">{member.name}</span>
        {member.owner && <Crown role="img" aria-label="Owner" className="h-3.5 w-3.5 shrink-0 text-warning" />}
        {member.user === self && <span className="text-xs text-muted-foreground">(you)</span>}
      </span>
      <span className="ml-auto flex items-center gap-1">
        {can("manage-roles") && roles.length > 0 && !member.owner && <MemberRoles community={community} member={member} roles={roles} />}
        {actionable && can("kick") && <KickButton community={community} member={member} />}
        {actionable && can("ban") && <BanButton community={community} member={member} />}
      </span>
    </li>
  );
}

function MemberRoles({ community, member, roles }: { community: Community; member: Member; roles: Role[] }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const setRoles = useMutation({
    mutationFn: (next: string[]) => data(api.PUT("/communities/{id}/members/{user}/roles", { params: { path: { id: community.id, user: member.user } }, body: { roles: next } })),
    onSettled: () => invalidate.members(community.id),
    onError: (err, next) => toastError(`Could not change ${member.name}'s roles`, err, () => setRoles.mutate(next)),
  });
  const current = setRoles.isPending ? setRoles.variables : member.roles;
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button data-testid="member-roles" variant="outline" size="sm" aria-label={`${member.name}'s roles`}>
          Roles ({current.length}) <ChevronDown aria-hidden />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-56">
        <DropdownMenuLabel>Roles of {member.name}</DropdownMenuLabel>
        <DropdownMenuSeparator />
        {roles.map((r) => (
          <DropdownMenuCheckboxItem
            key={r.id}
            data-testid="member-role"
            checked={current.includes(r.id)}
            disabled={setRoles.isPending}
            // Stays open, so several roles can be given at once.
            onSelect={(e) => e.preventDefault()}
            onCheckedChange={(on) => setRoles.mutate(on ? [...current, r.id] : current.filter((x) => x !== r.id))}
          >
            <RoleDot color={r.color} className="mr-2" />
            <span className="truncate">{r.name}</span>
          </DropdownMenuCheckboxItem>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

function KickButton({ community, member }: { community: Community; member: Member }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const kick = useMutation({
    mutationFn: () => data(api.POST("/communities/{id}/members/{user}/kick", { params: { path: { id: community.id, user: member.user } } })),
    onSuccess: () => {
      invalidate.members(community.id);
      toast.success(`${member.name} was kicked`);
    },
    onError: (err) => toastError(`Could not kick ${member.name}`, err, () => kick.mutate()),
  });
  return (
    <ConfirmAction
      trigger={
        <Button data-testid="member-kick" variant="ghost" size="sm" className="text-destructive" disabled={kick.isPending}>
          Kick
        </Button>
      }
      title={`Kick ${member.name}?`}
      description="They leave the community and read nothing sent after this; an invite can bring them back."
      confirm="Kick"
      confirmTestId="member-kick-confirm"
      onConfirm={() => kick.mutate()}
    />
  );
}

function BanButton({ community, member }: { community: Community; member: Member }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const ban = useMutation({
    mutationFn: () => data(api.PUT("/communities/{id}/bans/{user}", { params: { path: { id: community.id, user: member.user } } })),
    onSuccess: () => {
      invalidate.members(community.id);
      toast.success(`${member.name} was banned`);
    },
    onError: (err) => toastError(`Could not ban ${member.name}`, err, () => ban.mutate()),
  });
  return (
    <ConfirmAction
      trigger={
        <Button data-testid="member-ban" variant="ghost" size="sm" className="text-destructive" disabled={ban.isPending}>
          Ban
        </Button>
      }
      title={`Ban ${member.name}?`}
      description="They leave the community and cannot come back, not even with an invite, until the ban is lifted in Bans."
      confirm="Ban"
      confirmTestId="member-ban-confirm"
      onConfirm={() => ban.mutate()}
    />
  );
}
