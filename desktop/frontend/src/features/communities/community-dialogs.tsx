// Creating a community, and joining one with an invite link (previewed
// first: name, icon, member count) or a relay's short code.

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import { useInvalidate, useInvitePreview } from "@/api/queries";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit, type FieldLimitKey } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { initials } from "@/components/user-avatar";
import { errorText } from "@/lib/errors";
import { isInviteLink, joinError, refusesJoin, type InviteKind } from "./join-errors";

interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** Called with the community created or joined. */
  onDone: (id: string) => void;
}

function OneFieldDialog({ open, onOpenChange, title, description, label, placeholder, inputTestId, submitTestId, limitKey, submit, pending, error }: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: string;
  label: string;
  placeholder: string;
  inputTestId: string;
  submitTestId: string;
  /** The node's limit the field's text is held to. */
  limitKey: FieldLimitKey;
  submit: { label: string; run: (value: string) => void };
  pending: boolean;
  error: React.ReactNode;
}) {
  const [value, setValue] = useState("");
  const id = `${inputTestId}-field`;
  const limit = useFieldLimit(value.trim(), limitKey);
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
            if (value.trim() && !limit.refusal) submit.run(value.trim());
          }}
        >
          <DialogHeader>
            <DialogTitle>{title}</DialogTitle>
            <DialogDescription>{description}</DialogDescription>
          </DialogHeader>
          <div className="grid gap-1.5">
            <Label htmlFor={id}>{label}</Label>
            <Input
              id={id}
              data-testid={inputTestId}
              autoFocus
              aria-invalid={!!limit.refusal}
              aria-describedby={`${id}-limit`}
              placeholder={placeholder}
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
            <FieldLimitNote limit={limit} id={`${id}-limit`} />
          </div>
          {error}
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button data-testid={submitTestId} disabled={!value.trim() || !!limit.refusal || pending}>
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
      limitKey="name"
      submit={{ label: "Create", run: (name) => create.mutate(name) }}
      pending={create.isPending}
      error={create.isError && <p role="alert" className="text-sm text-destructive">{errorText(create.error)}</p>}
    />
  );
}

export function JoinCommunityDialog({ open, onOpenChange, onDone }: DialogProps) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const [value, setValue] = useState("");
  const invite = value.trim();
  const kind: InviteKind = isInviteLink(invite) ? "link" : "code";
  const preview = useInvitePreview(open && kind === "link" ? invite : null);
  const join = useMutation({
    mutationFn: (invite: string) => data(api.POST("/communities/join", { body: { invite } })),
    onSuccess: (c) => {
      invalidate.communities();
      onDone(c.id);
      close();
    },
  });
  const close = () => {
    setValue("");
    join.reset();
    onOpenChange(false);
  };
  const refused = kind === "link" && preview.isError && refusesJoin(preview.error);
  return (
    <Dialog open={open} onOpenChange={(o) => (o ? onOpenChange(true) : close())}>
      <DialogContent>
        <form
          className="grid gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (invite && !refused) join.mutate(invite);
          }}
        >
          <DialogHeader>
            <DialogTitle>Join a community</DialogTitle>
            <DialogDescription>Paste the invite link a member gave you, or a short code from a relay.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-1.5">
            <Label htmlFor="join-link-field">Invite link or code</Label>
            <Input
              id="join-link-field"
              data-testid="join-link"
              autoFocus
              maxLength={4096}
              placeholder="ancore://invite/… or a code"
              value={value}
              onChange={(e) => {
                setValue(e.target.value);
                join.reset();
              }}
            />
          </div>
          {kind === "link" && <PreviewOfInvite preview={preview} />}
          {join.isPending && <p className="text-sm text-muted-foreground">Asking a member to let you in…</p>}
          {join.isError && (
            <p data-testid="join-error" role="alert" className="text-sm text-destructive">
              {joinError(join.error, kind)}
            </p>
          )}
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={close}>
              Cancel
            </Button>
            <Button data-testid="join-submit" disabled={!invite || join.isPending || refused}>
              Join
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

/** The community an invite link leads to, or why it cannot be shown. */
function PreviewOfInvite({ preview }: { preview: ReturnType<typeof useInvitePreview> }) {
  if (preview.isPending) return <p className="text-sm text-muted-foreground">Asking a member what this invite is for…</p>;
  if (preview.isError) {
    return (
      <p data-testid="invite-preview-error" role="alert" className="text-sm text-destructive">
        {joinError(preview.error, "link")}
      </p>
    );
  }
  const c = preview.data;
  return (
    <div data-testid="invite-preview" className="flex items-center gap-3 rounded-md border p-3">
      <div className="flex h-12 w-12 shrink-0 items-center justify-center overflow-hidden rounded-xl bg-muted text-sm font-semibold">
        {c.icon ? <img data-testid="invite-preview-icon" src={`data:image/png;base64,${c.icon}`} alt="" className="h-12 w-12 object-cover" /> : initials(c.name)}
      </div>
      <div className="grid min-w-0">
        <span data-testid="invite-preview-name" className="truncate font-semibold">
          {c.name}
        </span>
        <span data-testid="invite-preview-members" className="text-sm text-muted-foreground">
          {c.members === 1 ? "1 member" : `${c.members} members`}
          {c.member && " · you are a member"}
        </span>
      </div>
    </div>
  );
}
