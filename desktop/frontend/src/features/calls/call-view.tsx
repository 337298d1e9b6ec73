// A call on the screen: the incoming call's dialog (ringing, with accept
// and decline), the bar of the call going on (its state, how long it has
// lasted, hang up), and a word when a call ends in a way the user did not
// choose (missed, declined, busy, lost).

import { useEffect, useRef, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Phone, PhoneOff } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { keys, useAvatar, useCalls, useMembers } from "@/api/queries";
import type { Call, CallState, Member } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { UserAvatar } from "@/components/user-avatar";
import { callError, currentCall, isCurrent, isCurrentState, outcome, stateText } from "./calls";
import { ring } from "./ringtone";

/** The call going on and its dialog or bar; mounted once, in the shell. */
export function CallView() {
  const calls = useCalls();
  const call = currentCall(calls.data);
  useOutcomes(calls.data);
  if (!call) return null;
  return call.direction === "incoming" && call.state === "ringing" ? <IncomingCall call={call} /> : <CallBar call={call} />;
}

/** The other side of call as the community knows them. */
function usePeer(call: Call) {
  const member = useMembers(call.community).data?.find((m) => m.user === call.user);
  const name = member?.name || call.user.slice(0, 8);
  const picture = useAvatar(member?.avatar, { community: call.community, user: call.user });
  return { name, picture };
}

/** Acting on a call: accept, reject or end it; failures are told in a toast. */
function useCallAction(call: Call, action: "accept" | "reject" | "end") {
  const { api } = useSession();
  return useMutation({
    mutationFn: () => data(api.POST(`/calls/{id}/${action}`, { params: { path: { id: call.id } } })),
    onError: (err) => toast.error(callError(err)),
  });
}

function IncomingCall({ call }: { call: Call }) {
  const { name, picture } = usePeer(call);
  const accept = useCallAction(call, "accept");
  const reject = useCallAction(call, "reject");
  useEffect(ring, []);
  return (
    <Dialog open onOpenChange={(open) => !open && reject.mutate()}>
      <DialogContent data-testid="incoming-call" className="max-w-xs" aria-describedby={undefined}>
        <DialogHeader className="items-center text-center">
          <UserAvatar user={call.user} name={name} picture={picture} size="lg" />
          <DialogTitle>{name}</DialogTitle>
          <DialogDescription>is calling you</DialogDescription>
        </DialogHeader>
        <DialogFooter className="flex-row justify-center gap-3 sm:justify-center">
          <Button data-testid="call-decline" variant="destructive" disabled={reject.isPending || accept.isPending} onClick={() => reject.mutate()}>
            <PhoneOff aria-hidden /> Decline
          </Button>
          <Button data-testid="call-accept" disabled={reject.isPending || accept.isPending} onClick={() => accept.mutate()}>
            <Phone aria-hidden /> Accept
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}

function CallBar({ call }: { call: Call }) {
  const { name, picture } = usePeer(call);
  const end = useCallAction(call, "end");
  return (
    <div data-testid="call-bar" role="status" className="flex items-center gap-3 border-b bg-sidebar px-4 py-2">
      <UserAvatar user={call.user} name={name} picture={picture} size="sm" />
      <div className="min-w-0 flex-1">
        <p data-testid="call-state" className="truncate font-medium">
          {stateText(call, name)}
        </p>
        {call.state === "active" && <Elapsed since={call.started} />}
      </div>
      <Button data-testid="call-end" size="sm" variant="destructive" disabled={end.isPending} onClick={() => end.mutate()}>
        <PhoneOff aria-hidden /> {call.state === "ringing" ? "Cancel" : "End"}
      </Button>
    </div>
  );
}

/** How long a call has lasted, ticking each second. */
function Elapsed({ since }: { since: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const text = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return <p className="text-xs tabular-nums text-muted-foreground">{text}</p>;
}

/** Tells, once, how each call that was current here ended, when the end needs telling. */
function useOutcomes(calls: readonly Call[] | undefined) {
  const qc = useQueryClient();
  const seen = useRef(new Map<string, CallState>());
  useEffect(() => {
    for (const c of calls ?? []) {
      const before = seen.current.get(c.id);
      seen.current.set(c.id, c.state);
      if (before === undefined || !isCurrentState(before) || isCurrent(c)) continue;
      const member = qc.getQueryData<Member[]>(keys.members(c.community))?.find((m) => m.user === c.user);
      const text = outcome(c, member?.name || c.user.slice(0, 8));
      if (text) toast.info(text);
    }
  }, [calls, qc]);
}
