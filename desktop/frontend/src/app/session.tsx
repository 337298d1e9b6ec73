// What every part of the UI reaches: the API client and its query hooks,
// the local user, and the chat state kept from events and fetched pages.

import { createContext, useContext, type Dispatch } from "react";
import type { Api, Queries } from "@/api/client";
import type { ApiEvent, Key } from "@/api/types";
import type { ChatAction, ChatState } from "@/lib/reducer";
import type { StreamState } from "@/lib/events";

export interface Session {
  api: Api;
  queries: Queries;
  self: Key;
  chat: ChatState;
  dispatch: Dispatch<ChatAction>;
  stream: StreamState;
  /** Hears every event of the stream; returns the unsubscribe function. */
  subscribe: (listener: (ev: ApiEvent) => void) => () => void;
  /** The node wiped this device's data and exits: nothing more to show. */
  onWiped: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error("useSession outside a session");
  return s;
}
