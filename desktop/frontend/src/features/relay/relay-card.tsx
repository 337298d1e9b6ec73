// The relay this node uses: its host, whether it is reached, and a way to
// disconnect from it.

import { useMutation } from "@tanstack/react-query";
import { Server, Unplug } from "lucide-react";
import { data } from "@/api/client";
import type { Relay } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { relayError, relayHost } from "@/lib/relay";
import { cn } from "@/lib/utils";
import { useRelayChanged } from "./use-relay";

export function RelayCard({ relay }: { relay: Relay }) {
  const { api } = useSession();
  const changed = useRelayChanged();
  const forget = useMutation({ mutationFn: () => data(api.DELETE("/relay")), onSuccess: () => changed() });
  return (
    <div data-testid="relay-card" className="grid gap-1 rounded-lg border bg-card p-3 text-card-foreground">
      <div className="flex items-center gap-2">
        <Server aria-hidden className="h-4 w-4 shrink-0 text-muted-foreground" />
        <span className="min-w-0 flex-1 truncate font-medium" title={relay.url ?? ""}>
          {relayHost(relay)}
        </span>
        <Button data-testid="relay-forget" variant="ghost" size="sm" className="text-destructive" disabled={forget.isPending} onClick={() => forget.mutate()}>
          <Unplug aria-hidden /> Disconnect
        </Button>
      </div>
      <p className="flex items-center gap-2 text-xs text-muted-foreground">
        <span aria-hidden className={cn("h-2 w-2 shrink-0 rounded-full", relay.connected ? "bg-success" : "bg-warning")} />
        <span data-testid="relay-connection">{relay.connected ? "Connected" : relay.error ? `Unreachable: ${relay.error}` : "Connecting…"}</span>
      </p>
      {forget.isError && (
        <p role="alert" className="text-xs text-destructive">
          {relayError(forget.error).text}
        </p>
      )}
    </div>
  );
}
