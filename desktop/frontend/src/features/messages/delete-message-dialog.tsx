// Deleting a message asks first: the delete reaches every peer and purges
// its content. A failure toasts with a retry.

import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import type { Message } from "@/api/types";
import { useSession } from "@/app/session";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { buttonVariants } from "@/components/ui/button";
import { toastError } from "@/lib/errors";

export function DeleteMessageDialog({ message, preview, onClose }: {
  message: Message | null;
  /** The message's text as shown, mentions by name. */
  preview: string;
  onClose: () => void;
}) {
  const { api } = useSession();
  const remove = useMutation({
    mutationFn: (m: Message) => data(api.DELETE("/messages/{id}", { params: { path: { id: m.id } } })),
    onError: (err, m) => toastError("Could not delete the message", err, () => remove.mutate(m)),
  });
  return (
    <AlertDialog open={message !== null} onOpenChange={(open) => !open && onClose()}>
      <AlertDialogContent className="max-h-[90vh] overflow-y-auto">
        <AlertDialogHeader>
          <AlertDialogTitle>Delete message</AlertDialogTitle>
          <AlertDialogDescription>Delete this message for everyone? Its content is purged from every peer that applies the delete.</AlertDialogDescription>
        </AlertDialogHeader>
        {message && (
          <blockquote className="max-h-40 overflow-y-auto whitespace-pre-wrap break-words rounded-md border-l-4 border-border bg-muted p-2 text-sm">{preview}</blockquote>
        )}
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <AlertDialogAction
            data-testid="confirm-delete"
            className={buttonVariants({ variant: "destructive" })}
            onClick={() => {
              if (message) remove.mutate(message);
            }}
          >
            Delete
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
