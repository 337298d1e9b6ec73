// The community's overview: its name, its icon, offline delivery through
// the relay (the owner's), and dissolving it (the owner's).

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Separator } from "@/components/ui/separator";
import { OfflineDelivery } from "@/features/relay/offline-delivery";
import { errorText } from "@/lib/errors";
import { DeleteCommunity } from "./delete-community";
import { IconPicker } from "./icon-picker";

export function OverviewTab({ community, onDeleted }: { community: Community; onDeleted: () => void }) {
  const { self } = useSession();
  return (
    <div className="grid gap-6">
      <NameForm community={community} />
      <IconPicker community={community} />
      <OfflineDelivery community={community} />
      {community.owner === self && (
        <>
          <Separator />
          <DeleteCommunity community={community} onDeleted={onDeleted} />
        </>
      )}
    </div>
  );
}

function NameForm({ community }: { community: Community }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const id = useId();
  const [name, setName] = useState(community.name);
  const limit = useFieldLimit(name.trim(), "name");
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/communities/{id}", { params: { path: { id: community.id } }, body: { name: name.trim() } })),
    onSuccess: () => {
      invalidate.communities();
      toast.success("Saved");
    },
  });
  return (
    <form
      className="grid gap-1.5"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && !limit.refusal) save.mutate();
      }}
    >
      <Label htmlFor={id}>Community name</Label>
      <div className="flex gap-2">
        <Input
          id={id}
          data-testid="settings-name"
          aria-invalid={!!limit.refusal}
          aria-describedby={`${id}-limit`}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Button data-testid="settings-name-save" disabled={!name.trim() || name.trim() === community.name || !!limit.refusal || save.isPending}>
          Save
        </Button>
      </div>
      <FieldLimitNote limit={limit} id={`${id}-limit`} />
      {save.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(save.error)}
        </p>
      )}
    </form>
  );
}
