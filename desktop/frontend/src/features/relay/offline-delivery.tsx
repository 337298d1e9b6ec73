// The owner asks the relay to carry the community, so members catch up
// while no one else is online. Shown to the owner only, and only by a node
// with relay support.

import { useId } from "react";
import { useMutation } from "@tanstack/react-query";
import { CloudUpload } from "lucide-react";
import { data } from "@/api/client";
import { useInvalidate, useNetwork } from "@/api/queries";
import type { Community } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { relayError, relayState } from "@/lib/relay";

export function OfflineDelivery({ community }: { community: Community }) {
  const { api, self } = useSession();
  const invalidate = useInvalidate();
  const network = useNetwork();
  const titleId = useId();
  const carry = useMutation({
    mutationFn: () => data(api.POST("/communities/{id}/relay", { params: { path: { id: community.id } } })),
    onSuccess: () => invalidate.communities(),
  });
  if (community.owner !== self || relayState(network.data) === "unsupported") return null;
  const carried = community.carried || carry.isSuccess;
  return (
    <section data-testid="offline-delivery" aria-labelledby={titleId} className="grid gap-2">
      <h3 id={titleId} className="font-medium">
        Offline delivery through the relay
      </h3>
      <p className="text-sm text-muted-foreground">
        Your relay keeps this community's messages (encrypted: it cannot read them) and hands them to members who come online while no other
        member is.
      </p>
      <Button data-testid="relay-carry" variant="outline" className="justify-self-start" disabled={carried || carry.isPending} onClick={() => carry.mutate()}>
        {!carried && <CloudUpload aria-hidden />}
        {carried ? "Carried by the relay" : "Deliver through the relay"}
      </Button>
      {carried && (
        <p data-testid="relay-carry-done" role="status" className="text-sm text-success">
          {carry.isSuccess ? "The relay now carries this community." : "The relay carries this community."}
        </p>
      )}
      {carry.isError && (
        <p data-testid="relay-carry-error" role="alert" className="text-sm text-destructive">
          {relayError(carry.error).text}
        </p>
      )}
    </section>
  );
}
