// The relay's status as the relay pages read it, and what a change of the
// relay refreshes.

import { useQueryClient } from "@tanstack/react-query";
import { keys, useInvalidate, useRelay } from "@/api/queries";
import type { Relay } from "@/api/types";
import { isUnsupported } from "@/lib/relay";

/** GET /relay; a node without relay support (404) is asked once. */
export function useRelayStatus() {
  return useRelay((failures, err) => !isUnsupported(err) && failures < 1);
}

/** After a change of the relay: its status (the answer, when there is one), and the connection line's. */
export function useRelayChanged() {
  const qc = useQueryClient();
  const invalidate = useInvalidate();
  return (relay?: Relay) => {
    if (relay) qc.setQueryData(keys.relay, relay);
    invalidate.relay();
    invalidate.network();
  };
}
