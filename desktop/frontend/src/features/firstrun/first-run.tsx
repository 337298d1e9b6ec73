// First run: the user chooses a display name; nothing else is needed on a LAN.

import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { data } from "@/api/client";
import { keys } from "@/api/queries";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { errorText } from "@/lib/errors";

export function FirstRun() {
  const { api } = useSession();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/me", { body: { name: name.trim() } })),
    onSuccess: (me) => qc.setQueryData(keys.me, me),
  });
  return (
    <main className="flex h-full items-center justify-center bg-sidebar p-4">
      <form
        className="w-full max-w-sm space-y-4 rounded-lg border bg-card p-6 text-card-foreground shadow"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) save.mutate();
        }}
      >
        <div className="space-y-1">
          <h1 className="text-xl font-semibold">Welcome to Ancore</h1>
          <p className="text-sm text-muted-foreground">Chat with no server in between. What should others call you?</p>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="first-run-name">Display name</Label>
          <Input id="first-run-name" data-testid="name-input" autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        {save.isError && (
          <p role="alert" className="text-sm text-destructive">
            {errorText(save.error)}
          </p>
        )}
        <Button data-testid="name-save" className="w-full" disabled={!name.trim() || save.isPending}>
          Continue
        </Button>
      </form>
    </main>
  );
}
