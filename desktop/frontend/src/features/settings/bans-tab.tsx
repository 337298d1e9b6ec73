// The users banned from the community, and lifting a ban.

import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate, useMembers } from "@/api/queries";
import type { Community, Member } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { UserAvatar } from "@/components/user-avatar";
import { toastError } from "@/lib/errors";

export function BansTab({ community }: { community: Community }) {
  const members = useMembers(community.id);
  const banned = (members.data ?? []).filter((m) => m.state === "banned");
  if (members.isPending) return <p className="text-muted-foreground">Loading bans…</p>;
  if (banned.length === 0) {
    return (
      <p data-testid="bans-empty" className="text-muted-foreground">
        No one is banned.
      </p>
    );
  }
  return (
    <ul className="flex flex-col" aria-label="Banned users">
      {banned.map((m) => (
        <BannedRow key={m.user} community={community} member={m} />
      ))}
    </ul>
  );
}

function BannedRow({ community, member }: { community: Community; member: Member }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const unban = useMutation({
    mutationFn: () => data(api.DELETE("/communities/{id}/bans/{user}", { params: { path: { id: community.id, user: member.user } } })),
    onSuccess: () => {
      invalidate.members(community.id);
      toast.success(`${member.name}'s ban was lifted`);
    },
    onError: (err) => toastError(`Could not lift ${member.name}'s ban`, err, () => unban.mutate()),
  });
  return (
    <li data-testid="settings-ban" className="flex items-center gap-2 border-t py-2 first:border-t-0">
      <UserAvatar user={member.user} name={member.name} />
      <span className="min-w-0 flex-1">
        <span className="block truncate font-medium">{member.name}</span>
        <span className="block truncate font-mono text-xs text-muted-foreground">{member.user}</span>
      </span>
      <Button data-testid="member-unban" variant="outline" size="sm" disabled={unban.isPending} onClick={() => unban.mutate()}>
        Unban
      </Button>
    </li>
  );
}
