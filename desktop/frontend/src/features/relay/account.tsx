// The relay account logged in, and logging out of it, optionally wiping
// this device (its identity, messages and keys; the node then stops).

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { LogOut } from "lucide-react";
import { data } from "@/api/client";
import type { Relay } from "@/api/types";
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
import { Checkbox } from "@/components/ui/checkbox";
import { Label } from "@/components/ui/label";
import { relayError } from "@/lib/relay";
import { useRelayChanged } from "./use-relay";

export function Account({ relay }: { relay: Relay }) {
  const { api, onWiped } = useSession();
  const changed = useRelayChanged();
  const [confirming, setConfirming] = useState(false);
  const [wipe, setWipe] = useState(false);
  const wipeId = useId();
  const logout = useMutation({
    mutationFn: () => data(api.POST("/relay/logout", { body: { wipe } })),
    onSuccess: () => {
      if (wipe) onWiped();
      else {
        setConfirming(false);
        changed();
      }
    },
  });
  const email = relay.account?.email;
  return (
    <div className="grid gap-2">
      <p data-testid="relay-account">
        Logged in as <span className="font-medium">{email}</span>
      </p>
      <AlertDialog
        open={confirming}
        onOpenChange={(open) => {
          setConfirming(open);
          if (!open) {
            setWipe(false);
            logout.reset();
          }
        }}
      >
        <AlertDialogTrigger asChild>
          <Button data-testid="relay-logout" variant="outline" className="justify-self-start">
            <LogOut aria-hidden /> Log out…
          </Button>
        </AlertDialogTrigger>
        <AlertDialogContent data-testid="relay-logout-confirm">
          <AlertDialogHeader>
            <AlertDialogTitle>Log out of {email}?</AlertDialogTitle>
            <AlertDialogDescription>This device stays who it is; log in again to use the account's relay features.</AlertDialogDescription>
          </AlertDialogHeader>
          <div className="flex items-start gap-3 rounded-md border p-3">
            <Checkbox id={wipeId} data-testid="relay-wipe" className="mt-0.5" checked={wipe} onCheckedChange={(c) => setWipe(c === true)} />
            <Label htmlFor={wipeId} className="grid gap-1 leading-snug">
              <span>Also wipe this device</span>
              <span className="text-xs font-normal text-muted-foreground">
                Deletes this device's identity, messages and keys, and stops Ancore. Log in again to restore your identity from the relay.
              </span>
            </Label>
          </div>
          {logout.isError && (
            <p role="alert" className="text-sm text-destructive">
              {relayError(logout.error).text}
            </p>
          )}
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <Button data-testid="relay-logout-confirm-button" variant={wipe ? "destructive" : "default"} disabled={logout.isPending} onClick={() => logout.mutate()}>
              {wipe ? "Log out and wipe" : "Log out"}
            </Button>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
