// A button whose action waits for a confirmation in an alert dialog:
// kicking, banning, revoking, deleting.

import type { ReactElement, ReactNode } from "react";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { buttonVariants } from "@/components/ui/button";

export function ConfirmAction({ trigger, title, description, confirm, onConfirm, confirmTestId, destructive = true }: {
  /** The button that opens the confirmation. */
  trigger: ReactElement;
  title: string;
  description: ReactNode;
  /** The confirming button's text, e.g. "Kick". */
  confirm: string;
  onConfirm: () => void;
  confirmTestId?: string;
  destructive?: boolean;
}) {
  return (
    <AlertDialog>
      <AlertDialogTrigger asChild>{trigger}</AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>{title}</AlertDialogTitle>
          <AlertDialogDescription>{description}</AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel>Cancel</AlertDialogCancel>
          <AlertDialogAction data-testid={confirmTestId} className={destructive ? buttonVariants({ variant: "destructive" }) : undefined} onClick={onConfirm}>
            {confirm}
          </AlertDialogAction>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
