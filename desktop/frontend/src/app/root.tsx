// The app's root: the token from the URL, the API client, the event
// stream feeding the chat state and invalidating server state, and the
// gate between the first-run screen and the chat.

import { useEffect, useMemo, useReducer, useState } from "react";
import { QueryClient, QueryClientProvider, useQueryClient } from "@tanstack/react-query";
import { createApi, createQueries, type Api } from "@/api/client";
import { invalidator, keys, useMe } from "@/api/queries";
import { tokenFromLocation } from "@/api/token";
import type { ApiEvent, Call, Community, ID } from "@/api/types";
import { toast } from "sonner";
import { Toaster } from "@/components/ui/sonner";
import { TooltipProvider } from "@/components/ui/tooltip";
import { withCall } from "@/features/calls/calls";
import { departureNotice } from "@/features/communities/departures";
import { FirstRun } from "@/features/firstrun/first-run";
import { Wiped } from "@/features/relay/wiped";
import { watchSystemTheme } from "@/features/settings/theme";
import { EventStream, eventsEndpoint, type StreamState } from "@/lib/events";
import { errorText } from "@/lib/errors";
import { chatReducer, initialChatState } from "@/lib/reducer";
import { SessionContext, useSession, type Session } from "./session";
import { Shell } from "./shell";

export function Root() {
  const [token] = useState(() => tokenFromLocation(window.location));
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false } } }),
  );
  useEffect(watchSystemTheme, []);
  return (
    <TooltipProvider delayDuration={300}>
      {token === null ? (
        <NoToken />
      ) : (
        <QueryClientProvider client={queryClient}>
          <Connected token={token} />
        </QueryClientProvider>
      )}
      <Toaster position="bottom-right" closeButton />
    </TooltipProvider>
  );
}

/** A page opened without the token: a second tab, a bookmark. */
function NoToken() {
  return (
    <main className="flex h-full items-center justify-center p-8 text-center">
      <div className="max-w-md space-y-3">
        <h1 className="text-2xl font-semibold">Ancore</h1>
        <p className="text-muted-foreground">This page needs the node's access token, which only the address the node opens or prints carries.</p>
        <p className="text-muted-foreground">
          To open another window, run <code className="rounded bg-muted px-1.5 py-0.5 font-mono text-sm text-foreground">ancore open</code> on this
          computer (add <code className="rounded bg-muted px-1 font-mono text-sm text-foreground">--data DIR</code> for another data folder).
        </p>
      </div>
    </main>
  );
}

function Connected({ token }: { token: string }) {
  const [api] = useState<Api>(() => createApi({ baseUrl: "", token }));
  const queries = useMemo(() => createQueries(api), [api]);
  const [chat, dispatch] = useReducer(chatReducer, initialChatState);
  const [stream, setStream] = useState<StreamState>("idle");
  const [es] = useState(() => new EventStream({ url: eventsEndpoint(""), token }));
  const [wiped, setWiped] = useState(false);

  const session: Session = useMemo(
    () => ({
      api,
      queries,
      // Known once GET /me answered; the gate below sets it.
      self: "",
      chat,
      dispatch,
      stream,
      subscribe: (l: (ev: ApiEvent) => void) => es.subscribe(l),
      onWiped: () => {
        es.close();
        setWiped(true);
      },
    }),
    [api, queries, chat, stream, es],
  );

  if (wiped) return <Wiped />;
  return (
    <SessionContext.Provider value={session}>
      <Events es={es} setStream={setStream} />
      <Gate />
    </SessionContext.Provider>
  );
}

/** Feeds the event stream into the chat state and the query cache. */
function Events({ es, setStream }: { es: EventStream; setStream: (s: StreamState) => void }) {
  const { dispatch, self } = useSession();
  const qc = useQueryClient();
  useEffect(() => {
    const invalidate = invalidator(qc);
    const offState = es.onState(setStream);
    // Names as the cache has them before the event's refetch drops the community.
    const nameOf = (id: ID) => qc.getQueryData<Community[]>(keys.communities)?.find((c) => c.id === id)?.name;
    const off = es.subscribe((ev: ApiEvent) => {
      dispatch(ev);
      const notice = departureNotice(ev, self, nameOf);
      if (notice) toast.info(notice);
      switch (ev.type) {
        case "resync":
          invalidate.all();
          break;
        case "community:update":
        case "channel:create":
        case "channel:update":
        case "channel:delete":
          invalidate.communities();
          break;
        case "member:join":
        case "member:leave":
        case "member:update":
          invalidate.members(ev.data.community);
          invalidate.communities();
          break;
        case "sync:progress":
          if (ev.data.ops !== undefined) invalidate.pages(ev.data.channel);
          break;
        case "network:update":
          invalidate.network();
          if ("relay" in ev.data) invalidate.relay();
          break;
        case "call:state":
          qc.setQueryData<Call[]>(keys.calls, (calls) => withCall(calls, ev.data));
          break;
      }
    });
    es.start();
    const tick = window.setInterval(() => dispatch({ type: "typing:expire", now: Date.now() }), 1000);
    return () => {
      off();
      offState();
      es.close();
      window.clearInterval(tick);
    };
  }, [es, qc, dispatch, setStream, self]);
  return null;
}

/** The first-run screen until the user has a name, then the chat. */
function Gate() {
  const me = useMe();
  const parent = useSession();
  const user = me.data?.user ?? "";
  const session = useMemo(() => ({ ...parent, self: user }), [parent, user]);
  if (me.isError) {
    return <p className="p-8 text-destructive">The node did not answer: {errorText(me.error)}</p>;
  }
  if (!me.data) {
    return <p className="p-8 text-muted-foreground">Connecting to the node…</p>;
  }
  return (
    <SessionContext.Provider value={session}>
      {me.data.name ? <Shell me={me.data} /> : <FirstRun />}
    </SessionContext.Provider>
  );
}
