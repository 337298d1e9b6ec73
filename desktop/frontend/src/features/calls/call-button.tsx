// Calling a fellow member from their profile. The call then shows in the
// call bar (call-view.tsx) as its call:state events come.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Phone } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { keys, useCalls } from "@/api/queries";
import type { Call, Community, Key } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { callError, currentCall, withCall } from "./calls";

export function CallButton({ community, user }: { community: Community; user: Key }) {
  const { api } = useSession();
  const qc = useQueryClient();
  const inCall = !!currentCall(useCalls().data);
  const start = useMutation({
    mutationFn: () => data(api.POST("/calls", { body: { community: community.id, user } })),
    onSuccess: (call) => qc.setQueryData<Call[]>(keys.calls, (calls) => withCall(calls, call)),
    onError: (err) => toast.error(callError(err)),
  });
  return (
    <Button data-testid="profile-call" size="sm" variant="outline" className="justify-self-start" disabled={inCall || start.isPending} onClick={() => start.mutate()}>
      <Phone aria-hidden /> Call
    </Button>
  );
}
