// The user's profile: avatar, display name, status and custom status text.

import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { data } from "@/api/client";
import { keys } from "@/api/queries";
import type { Me, MyStatus } from "@/api/types";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { statusLabel } from "@/components/user-avatar";
import { errorText } from "@/lib/errors";
import { AvatarPicker } from "./avatar-picker";

const statuses: MyStatus[] = ["online", "idle", "dnd", "invisible"];

export function ProfileTab({ me }: { me: Me }) {
  const { api } = useSession();
  const qc = useQueryClient();
  const id = useId();
  const [name, setName] = useState(me.name);
  const [status, setStatus] = useState<MyStatus>(me.status);
  const [statusText, setStatusText] = useState(me.status_text);
  const nameLimit = useFieldLimit(name.trim(), "name");
  const textLimit = useFieldLimit(statusText.trim(), "status_text");
  const refused = !!(nameLimit.refusal || textLimit.refusal);
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/me", { body: { name: name.trim(), status, status_text: statusText.trim() } })),
    onSuccess: (m) => {
      qc.setQueryData(keys.me, m);
      toast.success("Saved");
    },
  });
  const changed = name.trim() !== me.name || status !== me.status || statusText.trim() !== me.status_text;
  return (
    <form
      className="grid gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && changed && !refused) save.mutate();
      }}
    >
      <AvatarPicker me={me} name={name.trim() || me.name} />
      <p className="min-w-0 break-all font-mono text-xs text-muted-foreground">{me.user}</p>
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-name`}>Display name</Label>
        <Input
          id={`${id}-name`}
          data-testid="profile-name"
          aria-invalid={!!nameLimit.refusal}
          aria-describedby={`${id}-name-limit`}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <FieldLimitNote limit={nameLimit} id={`${id}-name-limit`} />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-status`}>Status</Label>
        <Select value={status} onValueChange={(s) => setStatus(s as MyStatus)}>
          <SelectTrigger id={`${id}-status`} data-testid="profile-status" className="sm:w-60">
            <SelectValue />
          </SelectTrigger>
          <SelectContent>
            {statuses.map((s) => (
              <SelectItem key={s} value={s}>
                {statusLabel[s]}
              </SelectItem>
            ))}
          </SelectContent>
        </Select>
        {status === "invisible" && <p className="text-xs text-muted-foreground">Others see you as offline.</p>}
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-text`}>Custom status</Label>
        <Input
          id={`${id}-text`}
          data-testid="profile-status-text"
          aria-invalid={!!textLimit.refusal}
          aria-describedby={`${id}-text-limit ${id}-text-hint`}
          placeholder="What are you up to?"
          value={statusText}
          onChange={(e) => setStatusText(e.target.value)}
        />
        <FieldLimitNote limit={textLimit} id={`${id}-text-limit`} />
        <p id={`${id}-text-hint`} className="text-xs text-muted-foreground">Shown beside your name to the members of your communities. Leave it empty to clear it.</p>
      </div>
      {save.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(save.error)}
        </p>
      )}
      <Button data-testid="profile-save" className="justify-self-start" disabled={!name.trim() || !changed || refused || save.isPending}>
        Save
      </Button>
    </form>
  );
}
