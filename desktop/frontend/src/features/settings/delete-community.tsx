// Dissolving the community, for everyone: the owner types its name to confirm.

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Trash2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorText } from "@/lib/errors";

export function DeleteCommunity({ community, onDeleted }: { community: Community; onDeleted: () => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const remove = useMutation({
    mutationFn: () => data(api.DELETE("/communities/{id}", { params: { path: { id: community.id } } })),
    onSuccess: () => {
      setOpen(false);
      invalidate.communities();
      toast.success(`${community.name} deleted`);
      onDeleted();
    },
  });
  return (
    <section className="grid gap-2" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="text-sm font-medium text-destructive">
        Delete community
      </h3>
      <p className="text-sm text-muted-foreground">Dissolves the community for every member: its channels and messages go with it. This cannot be undone.</p>
      <AlertDialog
        open={open}
        onOpenChange={(o) => {
          setOpen(o);
          setTyped("");
          remove.reset();
        }}
      >
        <AlertDialogTrigger asChild>
          <Button variant="destructive" className="justify-self-start" data-testid="community-delete">
            <Trash2 aria-hidden /> Delete community
          </Button>
        </AlertDialogTrigger>
        <AlertDialogContent>
          <form
            className="grid gap-4"
            onSubmit={(e) => {
              e.preventDefault();
              if (typed === community.name) remove.mutate();
            }}
          >
            <AlertDialogHeader>
              <AlertDialogTitle>Delete {community.name}?</AlertDialogTitle>
              <AlertDialogDescription>Every member loses it, with all its channels and messages. This cannot be undone.</AlertDialogDescription>
            </AlertDialogHeader>
            <div className="grid gap-1.5">
              <Label htmlFor={id}>
                Type <span className="font-semibold">{community.name}</span> to confirm
              </Label>
              <Input id={id} data-testid="community-delete-name" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
            </div>
            {remove.isError && (
              <p role="alert" className="text-sm text-destructive">
                {errorText(remove.error)}
              </p>
            )}
            <AlertDialogFooter>
              <AlertDialogCancel type="button">Cancel</AlertDialogCancel>
              <Button variant="destructive" data-testid="community-delete-confirm" disabled={typed !== community.name || remove.isPending}>
                Delete community
              </Button>
            </AlertDialogFooter>
          </form>
        </AlertDialogContent>
      </AlertDialog>
    </section>
  );
}
