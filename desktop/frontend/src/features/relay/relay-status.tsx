// The relay's word in the connection line; nothing without a relay.

import type { Network } from "@/api/types";
import { relayState } from "@/lib/relay";
import { cn } from "@/lib/utils";

export function RelayStatus({ network }: { network: Network | undefined }) {
  const state = relayState(network);
  if (state === "unsupported" || state === "none") return null;
  return (
    <span data-testid="relay-status" data-state={state} className={cn(state !== "connected" && "text-warning")}>
      {" · "}relay {state === "connected" ? "connected" : "unreachable"}
    </span>
  );
}
