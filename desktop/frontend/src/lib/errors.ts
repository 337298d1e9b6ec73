// Failures for people: the sentence of an error, and a toast with a retry.

import { toast } from "sonner";

/** The message of an error for people. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Tells of a failed action in a toast; with retry, the toast offers to try again. */
export function toastError(what: string, err: unknown, retry?: () => void): void {
  toast.error(what, {
    description: errorText(err),
    ...(retry && { action: { label: "Retry", onClick: retry } }),
  });
}
