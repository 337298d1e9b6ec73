// The Relay page of the user settings: connect to a relay by its URL, then
// register or log in with email and password, or log out (optionally
// wiping this device). A node without relay support (GET /relay is 404)
// says so and offers nothing else.

import { Loader2 } from "lucide-react";
import { isUnsupported, relayError } from "@/lib/relay";
import { Account } from "./account";
import { ConnectRelay } from "./connect-relay";
import { RelayCard } from "./relay-card";
import { SignIn } from "./sign-in";
import { useRelayStatus } from "./use-relay";

export function RelaySettings() {
  const relay = useRelayStatus();
  if (relay.isPending) {
    return (
      <p className="flex items-center gap-2 text-muted-foreground">
        <Loader2 aria-hidden className="h-4 w-4 animate-spin" /> Asking the node…
      </p>
    );
  }
  if (relay.isError) {
    return isUnsupported(relay.error) ? (
      <p data-testid="relay-unsupported" className="text-muted-foreground">
        This node has no relay support.
      </p>
    ) : (
      <p role="alert" className="text-destructive">
        {relayError(relay.error).text}
      </p>
    );
  }
  const r = relay.data;
  if (r.url === null) return <ConnectRelay />;
  return (
    <div className="grid gap-4">
      <RelayCard relay={r} />
      {r.account ? <Account relay={r} /> : <SignIn />}
    </div>
  );
}
