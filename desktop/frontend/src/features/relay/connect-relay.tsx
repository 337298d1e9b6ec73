// Connecting to a relay by its address.

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { data } from "@/api/client";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { FieldMessage, firstError } from "./field-message";
import { useRelayChanged } from "./use-relay";

export function ConnectRelay() {
  const { api } = useSession();
  const changed = useRelayChanged();
  const id = useId();
  const [url, setUrl] = useState("");
  const connect = useMutation({ mutationFn: () => data(api.PUT("/relay", { body: { url: url.trim() } })), onSuccess: changed });
  const error = firstError(connect.error);
  return (
    <form
      noValidate
      className="grid gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        if (url.trim()) connect.mutate();
      }}
    >
      <p className="text-muted-foreground">
        A relay is a server you or your community run. It gives you an account to restore your identity on another device, short invite codes,
        and delivery while the people you write to are offline. Without one, Ancore works on its own.
      </p>
      <div className="grid gap-1.5">
        <Label htmlFor={id}>Relay address</Label>
        <Input
          id={id}
          data-testid="relay-url"
          type="url"
          autoFocus
          placeholder="https://relay.example.org"
          value={url}
          aria-invalid={error?.field === "url"}
          onChange={(e) => setUrl(e.target.value)}
        />
        <FieldMessage error={error} field="url" />
        <FieldMessage error={error} field="form" />
      </div>
      <Button data-testid="relay-connect" className="justify-self-start" disabled={!url.trim() || connect.isPending}>
        {connect.isPending ? "Connecting…" : "Connect to a relay"}
      </Button>
    </form>
  );
}
