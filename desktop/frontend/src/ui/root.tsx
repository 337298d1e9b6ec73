// The app's root: the token from the URL, the API client, the event
// stream feeding the chat state and invalidating server state, and the
// gate between the first-run screen and the chat.

import { useEffect, useMemo, useReducer, useState } from "react";
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { createClient, tokenFromLocation, type ApiEvent, type Client } from "../lib/api";
import { EventStream, eventsEndpoint, type StreamState } from "../lib/events";
import { chatReducer, initialChatState } from "../lib/reducer";
import { SessionContext, type Session } from "./context";
import { FirstRun } from "./firstrun";
import { Layout } from "./layout";
import { Wiped } from "./relay";
import { applyTheme, savedTheme } from "./theme";

export function Root() {
  const [token] = useState(() => tokenFromLocation(window.location));
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false } } }),
  );
  useEffect(() => applyTheme(savedTheme()), []);
  if (token === null) {
    return (
      <main className="flex h-full items-center justify-center p-8 text-center">
        <div>
          <h1 className="mb-2 text-2xl font-semibold">Ancore</h1>
          <p className="text-zinc-500">Open the address the node printed (it carries the access token).</p>
        </div>
      </main>
    );
  }
  return (
    <QueryClientProvider client={queryClient}>
      <Connected client={createClient({ baseUrl: "", token })} token={token} />
    </QueryClientProvider>
  );
}

function Connected({ client, token }: { client: Client; token: string }) {
  const queries = useQueryClient();
  const [chat, dispatch] = useReducer(chatReducer, initialChatState);
  const [stream, setStream] = useState<StreamState>("idle");
  const [es] = useState(() => new EventStream({ url: eventsEndpoint(""), token }));
  const me = useQuery({ queryKey: ["me"], queryFn: ({ signal }) => client.me({ signal }) });
  const [wiped, setWiped] = useState(false);

  useEffect(() => {
    const offState = es.onState(setStream);
    const off = es.subscribe((ev: ApiEvent) => {
      dispatch(ev);
      switch (ev.type) {
        case "resync":
          void queries.invalidateQueries();
          break;
        case "community:update":
        case "channel:create":
        case "channel:update":
        case "channel:delete":
          void queries.invalidateQueries({ queryKey: ["communities"] });
          void queries.invalidateQueries({ queryKey: ["community"] });
          break;
        case "member:join":
        case "member:leave":
        case "member:update":
          void queries.invalidateQueries({ queryKey: ["members", ev.data.community] });
          void queries.invalidateQueries({ queryKey: ["communities"] });
          void queries.invalidateQueries({ queryKey: ["community", ev.data.community] });
          break;
        case "sync:progress":
          if (ev.data.ops !== undefined) {
            void queries.invalidateQueries({ queryKey: ["page", ev.data.channel] });
            void queries.invalidateQueries({ queryKey: ["unread", ev.data.channel] });
          }
          break;
        case "network:update":
          void queries.invalidateQueries({ queryKey: ["network"] });
          if ("relay" in ev.data) void queries.invalidateQueries({ queryKey: ["relay"] });
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
  }, [es, queries]);

  const session: Session | null = useMemo(
    () =>
      me.data
        ? {
            client,
            self: me.data.user,
            chat,
            dispatch,
            stream,
            subscribe: (l) => es.subscribe(l),
            onWiped: () => {
              es.close();
              setWiped(true);
            },
          }
        : null,
    [client, me.data, chat, stream, es],
  );

  if (wiped) return <Wiped />;
  if (me.isError) {
    return <p className="p-8 text-red-500">The node did not answer: {String(me.error)}</p>;
  }
  if (!session || !me.data) {
    return <p className="p-8 text-zinc-500">Connecting to the node…</p>;
  }
  return (
    <SessionContext.Provider value={session}>{me.data.name ? <Layout me={me.data} /> : <FirstRun />}</SessionContext.Provider>
  );
}
