// Leaving a community, after a confirmation.

import { useMutation } from "@tanstack/react-query";
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
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { errorText } from "@/lib/errors";

export function LeaveDialog({ community, open, onOpenChange, onLeft }: {
  community: Community;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onLeft: () => void;
}) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const leave = useMutation({
    mutationFn: () => data(api.POST("/communities/{id}/leave", { params: { path: { id: community.id } } })),
    onSuccess: () => {
      invalidate.communities();
      onOpenChange(false);
      toast.success(`You left ${community.name}`);
      onLeft();
    },
  });
  return (
    <AlertDialog
      open={open}
      onOpenChange={(o) => {
        onOpenChange(o);
        if (!o) leave.reset();
      }}
    >
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Leave {community.name}?</AlertDialogTitle>
          <AlertDialogDescription>You will stop receiving its messages; an invite brings you back.</AlertDialogDescription>
        </AlertDialogHeader>
        {leave.isError && (
          <p role="alert" className="text-sm text-destructive">
            {errorText(leave.error)}
          </p>
        )}
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <Button data-testid="leave-confirm" variant="destructive" disabled={leave.isPending} onClick={() => leave.mutate()}>
            Leave community
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
