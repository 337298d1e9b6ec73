// The community's invites: who made each, how often it was used, when it
// expires, whether it was revoked; revoking one, and making a new one.

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Plus } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate, useInvites } from "@/api/queries";
import type { Community, Invite } from "@/api/types";
import { useSession } from "@/app/session";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { useMemberLookup } from "@/features/members/profile-popover";
import { toastError } from "@/lib/errors";
import { ConfirmAction } from "./confirm-action";
import { InviteDialog } from "./invite-dialog";
import { expiryText } from "./relative-time";

/** Active invites first, then the expired and the revoked. */
function isActive(i: Invite, now: Date): boolean {
  return !i.revoked && (i.expires_at === null || new Date(i.expires_at) > now) && (i.max_uses === 0 || i.uses < i.max_uses);
}

export function InvitesTab({ community }: { community: Community }) {
  const { self } = useSession();
  const invites = useInvites(community.id);
  const lookup = useMemberLookup(community);
  const [creating, setCreating] = useState(false);
  const can = (p: Community["my_permissions"][number]) => community.my_permissions.includes(p);
  const now = new Date();
  const list = [...(invites.data ?? [])].sort((a, b) => Number(isActive(b, now)) - Number(isActive(a, now)));
  return (
    <div className="grid gap-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-muted-foreground">Invite links let people in; revoke one to stop it working.</p>
        {can("create-invites") && (
          <Button data-testid="settings-invite-create" onClick={() => setCreating(true)}>
            <Plus aria-hidden /> Create invite
          </Button>
        )}
      </div>
      {invites.isPending ? (
        <p className="text-muted-foreground">Loading invites…</p>
      ) : list.length === 0 ? (
        <p data-testid="invites-empty" className="text-muted-foreground">
          No invites yet.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase text-muted-foreground">
              <tr>
                <th scope="col" className="py-2 pr-2 font-semibold">
                  Made by
                </th>
                <th scope="col" className="px-2 font-semibold">
                  Uses
                </th>
                <th scope="col" className="px-2 font-semibold">
                  Expires
                </th>
                <th scope="col" className="pl-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <InviteRow
                  key={i.id}
                  community={community}
                  invite={i}
                  creator={lookup.nameOf(i.creator) ?? i.creator.slice(0, 8)}
                  active={isActive(i, now)}
                  revocable={i.creator === self || can("manage-community")}
                  now={now}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <InviteDialog community={community} open={creating} onOpenChange={setCreating} />
    </div>
  );
}

function InviteRow({ community, invite, creator, active, revocable, now }: {
  community: Community;
  invite: Invite;
  creator: string;
  active: boolean;
  revocable: boolean;
  now: Date;
}) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const revoke = useMutation({
    mutationFn: () => data(api.DELETE("/communities/{id}/invites/{invite}", { params: { path: { id: community.id, invite: invite.id } } })),
    onSuccess: () => {
      invalidate.invites(community.id);
      toast.success("Invite revoked");
    },
    onError: (err) => toastError("Could not revoke the invite", err, () => revoke.mutate()),
  });
  const state = invite.revoked ? "Revoked" : !active ? (invite.max_uses !== 0 && invite.uses >= invite.max_uses ? "Used up" : "Expired") : null;
  return (
    <tr data-testid="invite-row" data-state={state?.toLowerCase() ?? "active"} className="border-t">
      <td className="max-w-40 truncate py-2 pr-2 font-medium">{creator}</td>
      <td className="px-2 tabular-nums">
        {invite.uses} / {invite.max_uses || "∞"}
        {!invite.max_uses && <span className="sr-only"> (no limit)</span>}
      </td>
      <td className="px-2">{invite.revoked ? "—" : expiryText(invite.expires_at, now)}</td>
      <td className="py-1 pl-2 text-right">
        {state ? (
          <Badge variant="secondary">{state}</Badge>
        ) : (
          revocable && (
            <ConfirmAction
              trigger={
                <Button data-testid="invite-revoke" variant="ghost" size="sm" className="text-destructive" disabled={revoke.isPending}>
                  Revoke
                </Button>
              }
              title="Revoke this invite?"
              description="The link (and its short code) stops working at once. People who joined with it stay."
              confirm="Revoke"
              confirmTestId="invite-revoke-confirm"
              onConfirm={() => revoke.mutate()}
            />
          )
        )}
      </td>
    </tr>
  );
}
