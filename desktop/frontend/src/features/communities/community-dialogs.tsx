// Creating a community, and joining one with an invite link or a relay's
// short code.

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorText } from "@/lib/errors";
import { joinError } from "@/lib/relay";

interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** Called with the community created or joined. */
  onDone: (id: string) => void;
}

function OneFieldDialog({ open, onOpenChange, title, description, label, placeholder, inputTestId, submitTestId, submit, pending, error, pendingText }: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: string;
  label: string;
  placeholder: string;
  inputTestId: string;
  submitTestId: string;
  submit: { label: string; run: (value: string) => void };
  pending: boolean;
  error: React.ReactNode;
  pendingText?: string;
}) {
  const [value, setValue] = useState("");
  const id = `${inputTestId}-field`;
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        if (!o) setValue("");
        onOpenChange(o);
      }}
    >
      <DialogContent>
        <form
          className="grid gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (value.trim()) submit.run(value.trim());
          }}
        >
          <DialogHeader>
            <DialogTitle>{title}</DialogTitle>
            <DialogDescription>{description}</DialogDescription>
          </DialogHeader>
          <div className="grid gap-1.5">
            <Label htmlFor={id}>{label}</Label>
            <Input id={id} data-testid={inputTestId} autoFocus maxLength={4096} placeholder={placeholder} value={value} onChange={(e) => setValue(e.target.value)} />
          </div>
          {pending && pendingText && <p className="text-sm text-muted-foreground">{pendingText}</p>}
          {error}
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button data-testid={submitTestId} disabled={!value.trim() || pending}>
              {submit.label}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function CreateCommunityDialog({ open, onOpenChange, onDone }: DialogProps) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const create = useMutation({
    mutationFn: (name: string) => data(api.POST("/communities", { body: { name } })),
    onSuccess: (c) => {
      invalidate.communities();
      onDone(c.id);
      onOpenChange(false);
    },
  });
  return (
    <OneFieldDialog
      open={open}
      onOpenChange={(o) => {
        if (!o) create.reset();
        onOpenChange(o);
      }}
      title="Create a community"
      description="A place for your friends or team, with text and voice channels. Everyone you invite keeps a copy; no server is needed."
      label="Community name"
      placeholder="My community"
      inputTestId="community-name"
      submitTestId="community-create"
      submit={{ label: "Create", run: (name) => create.mutate(name) }}
      pending={create.isPending}
      error={create.isError && <p role="alert" className="text-sm text-destructive">{errorText(create.error)}</p>}
    />
  );
}

export function JoinCommunityDialog({ open, onOpenChange, onDone }: DialogProps) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const join = useMutation({
    mutationFn: (invite: string) => data(api.POST("/communities/join", { body: { invite } })),
    onSuccess: (c) => {
      invalidate.communities();
      onDone(c.id);
      onOpenChange(false);
    },
  });
  return (
    <OneFieldDialog
      open={open}
      onOpenChange={(o) => {
        if (!o) join.reset();
        onOpenChange(o);
      }}
      title="Join a community"
      description="Paste the invite link a member gave you, or a short code from a relay."
      label="Invite link or code"
      placeholder="ancore://invite/… or a code"
      inputTestId="join-link"
      submitTestId="join-submit"
      submit={{ label: "Join", run: (invite) => join.mutate(invite) }}
      pending={join.isPending}
      pendingText="Asking a member to let you in…"
      error={
        join.isError && (
          <p data-testid="join-error" role="alert" className="text-sm text-destructive">
            {joinError(join.error)}
          </p>
        )
      }
    />
  );
}
