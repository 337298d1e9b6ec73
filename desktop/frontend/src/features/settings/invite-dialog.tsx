// Inviting people: how long the invite lasts and how often it can be
// used, then the link and, through a relay, a short code to pass on.

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { CopyField } from "@/components/copy-field";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { errorText } from "@/lib/errors";

const lifetimes = [
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 604_800, label: "7 days" },
  { seconds: 0, label: "Never" },
];
const useLimits = [
  { uses: 0, label: "No limit" },
  { uses: 1, label: "1 use" },
  { uses: 10, label: "10 uses" },
  { uses: 100, label: "100 uses" },
];

export function InviteDialog({ community, open, onOpenChange }: { community: Community; open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Invite people to {community.name}</DialogTitle>
          <DialogDescription>Anyone with the link or the code can join while the invite lasts.</DialogDescription>
        </DialogHeader>
        <InviteForm community={community} onClose={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function InviteForm({ community, onClose }: { community: Community; onClose: () => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const id = useId();
  const [ttl, setTtl] = useState(86_400);
  const [maxUses, setMaxUses] = useState(0);
  const create = useMutation({
    mutationFn: () => data(api.POST("/communities/{id}/invites", { params: { path: { id: community.id } }, body: { ttl_seconds: ttl, max_uses: maxUses } })),
    onSuccess: () => invalidate.invites(community.id),
  });
  return (
    <>
      <div className="grid gap-3 sm:grid-cols-2">
        <div className="grid gap-1.5">
          <Label htmlFor={`${id}-ttl`}>Expires after</Label>
          <Select value={String(ttl)} onValueChange={(v) => setTtl(Number(v))}>
            <SelectTrigger id={`${id}-ttl`} data-testid="invite-ttl">
              <SelectValue />
            </SelectTrigger>
            <SelectContent>
              {lifetimes.map((l) => (
                <SelectItem key={l.seconds} value={String(l.seconds)}>
                  {l.label}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor={`${id}-uses`}>Max uses</Label>
          <Select value={String(maxUses)} onValueChange={(v) => setMaxUses(Number(v))}>
            <SelectTrigger id={`${id}-uses`} data-testid="invite-max-uses">
              <SelectValue />
            </SelectTrigger>
            <SelectContent>
              {useLimits.map((u) => (
                <SelectItem key={u.uses} value={String(u.uses)}>
                  {u.label}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        </div>
      </div>
      {create.data && (
        <div className="grid gap-3">
          <CopyField testId="invite-link" label="Invite link" value={create.data.link ?? ""} />
          {create.data.code && <CopyField testId="invite-code" label="Short code (through your relay)" value={create.data.code} />}
        </div>
      )}
      {create.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(create.error)}
        </p>
      )}
      <DialogFooter>
        <Button variant="ghost" onClick={onClose}>
          Close
        </Button>
        <Button data-testid="invite-create" disabled={create.isPending} onClick={() => create.mutate()}>
          {create.data ? "New link" : "Create link"}
        </Button>
      </DialogFooter>
    </>
  );
}
