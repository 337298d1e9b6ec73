// The transport to the local node API (docs/api/openapi.yaml): its
// resources as TypeScript types, one error type, and a client with a typed
// method per route. The UI talks to the node through this module only.

/** A CID string naming a community, channel, role, invite or message. */
export type ID = string;
/** A user's or device's public key, unpadded lowercase base32. */
export type Key = string;
/** An RFC 3339 timestamp as the node writes it. */
export type Timestamp = string;

export type Permission =
  | "manage-community"
  | "manage-channels"
  | "manage-roles"
  | "kick"
  | "ban"
  | "create-invites"
  | "send-messages"
  | "manage-messages"
  | "attach-files"
  | "add-reactions"
  | "connect"
  | "speak"
  | "video"
  | "administrator";

/** A user's status as the node knows it ("invisible" shows as offline). */
export type PresenceStatus = "online" | "idle" | "dnd" | "offline";
/** The status the local user chooses. */
export type MyStatus = "online" | "idle" | "dnd" | "invisible";

export type ErrorCode =
  | "bad_json"
  | "bad_input"
  | "bad_query"
  | "bad_handshake"
  | "unauthorized"
  | "forbidden"
  | "forbidden_host"
  | "forbidden_origin"
  | "not_found"
  | "join_refused"
  | "not_ready"
  | "too_large"
  | "invalid"
  | "internal"
  | "no_relay"
  | "bad_url"
  | "relay_unreachable"
  | "relay_error"
  | "bad_credentials"
  | "bad_backup"
  | "identity_conflict"
  | "email_taken"
  | "invalid_email"
  | "weak_password"
  | "rate_limited"
  | "invite_expired"
  | "invite_revoked"
  | "invite_exhausted";

// --- resources ---

export interface Me {
  user: Key;
  device: Key;
  /** Empty until one is set. */
  name: string;
  status: MyStatus;
}

export interface Community {
  id: ID;
  /** Empty if this node cannot open the community's info. */
  name: string;
  /** The icon's bytes in base64; absent when there is none. */
  icon?: string;
  owner: Key;
  /** Not deleted, by position, then ID. */
  channels: Channel[];
  /** Not deleted, highest position first. */
  roles: Role[];
  my_permissions: Permission[];
  member: boolean;
}

export interface Channel {
  id: ID;
  community: ID;
  name: string;
  topic: string;
  type: "text" | "voice";
  position: number;
}

/** A role; @everyone's ID is the community's and its position 0. */
export interface Role {
  id: ID;
  name: string;
  /** 0xRRGGBB. */
  color: number;
  /** Effective permissions (administrator implies all). */
  permissions: Permission[];
  position: number;
}

export interface Member {
  user: Key;
  /** The member's profile name, or the start of its key. */
  name: string;
  state: "joined" | "left" | "kicked" | "banned";
  /** Role IDs besides @everyone. */
  roles: ID[];
  owner: boolean;
  joined_at: Timestamp;
  status: PresenceStatus;
}

export interface Invite {
  id: ID;
  creator: Key;
  /** null when it never expires. */
  expires_at: Timestamp | null;
  /** 0 for any number. */
  max_uses: number;
  uses: number;
  revoked: boolean;
  /** The invite link (ancore://invite/…); only in the answer to its creation. */
  link?: string;
  /**
   * The relay's short code for the link; only in the answer to its
   * creation, null without a relay session (absent from nodes without relay support).
   */
  code?: string | null;
}

export interface Reaction {
  emoji: string;
  users: Key[];
}

export interface Message {
  id: ID;
  channel: ID;
  author: Key;
  text: string;
  /** The message replied to; absent when none. */
  reply_to?: ID;
  mentions: Key[];
  everyone: boolean;
  created_at: Timestamp;
  /** null until edited. */
  edited_at: Timestamp | null;
  reactions: Reaction[];
  /** pending while no peer has the message. */
  state: "sent" | "pending";
}

export interface Peer {
  id: string;
  addrs: string[];
}

/**
 * Progress of catching a log up: either a sync session with `peer` has
 * received `done` of `total` ops, or `ops` message ops arrived at once and
 * the client refetches the channel.
 */
export interface SyncEvent {
  channel: ID;
  peer?: string;
  done?: number;
  total?: number;
  ops?: number;
}

/** The home relay's part of the node's connectivity. */
export interface NetworkRelay {
  /** The relay's base URL; null when none is set. */
  url: string | null;
  /** Whether the node is connected to the relay's libp2p peer. */
  connected: boolean;
  /** The relay's libp2p peer ID; null until the relay answered. */
  peer: string | null;
}

export interface Network {
  peer_id: string;
  /** Each ends in /p2p/<peer_id>. */
  addrs: string[];
  peers: Peer[];
  sync: SyncEvent[];
  /** Absent from nodes without relay support. */
  relay?: NetworkRelay;
}

/** The node's home relay and relay account (GET /relay). */
export interface Relay extends NetworkRelay {
  /** The account logged in; null when none. */
  account: { email: string } | null;
  /** The last failure to reach the relay; null after it answered. */
  error: string | null;
}

// --- event payloads ---

/** Names a deleted message. */
export interface MessageRef {
  id: ID;
  channel: ID;
}

export interface ReactionEvent {
  message: ID;
  channel: ID;
  emoji: string;
  user: Key;
}

export interface MemberEvent {
  community: ID;
  member: Member;
}

/** Names a deleted channel. */
export interface ChannelRef {
  id: ID;
  community: ID;
}

export interface PresenceEvent {
  community: ID;
  user: Key;
  status: PresenceStatus;
}

export interface TypingEvent {
  community: ID;
  channel: ID;
  user: Key;
  /** When the indication lapses unless repeated. */
  until: Timestamp;
}

/** A peer connected or disconnected, or the relay's status changed. */
export type NetworkUpdate = { peer: string; connected: boolean } | { relay: NetworkRelay };

/** One envelope on the event stream, discriminated by `type`. */
export type ApiEvent =
  | { type: "hello" | "resync"; seq: number }
  | { type: "message:new" | "message:update"; seq: number; data: Message }
  | { type: "message:delete"; seq: number; data: MessageRef }
  | { type: "reaction:add" | "reaction:remove"; seq: number; data: ReactionEvent }
  | { type: "channel:create" | "channel:update"; seq: number; data: Channel }
  | { type: "channel:delete"; seq: number; data: ChannelRef }
  | { type: "community:update"; seq: number; data: Community }
  | { type: "member:join" | "member:leave" | "member:update"; seq: number; data: MemberEvent }
  | { type: "network:update"; seq: number; data: NetworkUpdate }
  | { type: "user:presence"; seq: number; data: PresenceEvent }
  | { type: "user:typing"; seq: number; data: TypingEvent }
  | { type: "sync:progress"; seq: number; data: SyncEvent };

export type EventType = ApiEvent["type"];

const eventTypes: ReadonlySet<string> = new Set<EventType>([
  "hello",
  "resync",
  "message:new",
  "message:update",
  "message:delete",
  "reaction:add",
  "reaction:remove",
  "channel:create",
  "channel:update",
  "channel:delete",
  "community:update",
  "member:join",
  "member:leave",
  "member:update",
  "network:update",
  "user:presence",
  "user:typing",
  "sync:progress",
]);

/** Whether the stream can send events of this type. */
export function isEventType(type: string): type is EventType {
  return eventTypes.has(type);
}

// --- request bodies ---

export interface MeUpdate {
  name?: string;
  status?: MyStatus;
}

export interface CommunityCreate {
  name: string;
}

export interface JoinRequest {
  /** An invite link, ancore://invite/…, or a relay's short invite code. */
  invite: string;
}

export interface CommunityUpdate {
  name?: string;
  /** The icon's bytes in base64, at most 16 KiB; empty removes it. */
  icon?: string;
}

export interface RoleCreate {
  name: string;
  color?: number;
  permissions?: Permission[];
  position: number;
}

export interface RoleUpdate {
  name?: string;
  color?: number;
  permissions?: Permission[];
  position?: number;
}

export interface InviteCreate {
  /** Lifetime in seconds, 0 for never; absent means 24 hours. */
  ttl_seconds?: number;
  /** 0 (or absent) for any number. */
  max_uses?: number;
}

export interface ChannelCreate {
  name: string;
  topic?: string;
  type?: "text" | "voice";
}

export interface ChannelUpdate {
  name?: string;
  topic?: string;
  position?: number;
}

export interface MessageCreate {
  text: string;
  reply_to?: ID;
  mentions?: Key[];
  everyone?: boolean;
}

export interface RelayCredentials {
  email: string;
  /** Never leaves the node: it derives the relay login and the identity backup's key from it. */
  password: string;
}

export interface MessageUpdate {
  text: string;
  mentions?: Key[];
  everyone?: boolean;
}

/** Which page of a channel's history: at most one anchor, limit 1–100 (default 50). */
export type MessagePage =
  | { before?: undefined; after?: undefined; around?: undefined; limit?: number }
  | { before: ID; after?: undefined; around?: undefined; limit?: number }
  | { before?: undefined; after: ID; around?: undefined; limit?: number }
  | { before?: undefined; after?: undefined; around: ID; limit?: number };

// --- errors ---

/**
 * A failed request. `code` is the node's ErrorCode when it answered with
 * its error body; "bad_response" when it answered something else, and
 * "network" (status 0) when no answer came at all.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: ErrorCode | "bad_response" | "network",
    message: string,
  ) {
    super(message);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The ApiError for an answer with a non-2xx status and the given body text. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const e = isRecord(parsed) ? parsed.error : undefined;
  if (isRecord(e) && typeof e.code === "string" && typeof e.message === "string") {
    return new ApiError(status, e.code as ErrorCode, e.message);
  }
  return new ApiError(status, "bad_response", `HTTP ${status}${statusText ? " " + statusText : ""}`);
}

// --- the client ---

export interface ClientOptions {
  /**
   * The node's origin, e.g. "http://127.0.0.1:7878"; "" for the page's own
   * (the node serves the UI beside the API).
   */
  baseUrl: string;
  token: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Per-call options; TanStack Query passes its `signal` here. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** The path of an API route: every interpolated value is one encoded path segment. */
export function apiPath(strings: TemplateStringsArray, ...segments: string[]): string {
  let out = "/api/v1" + strings[0];
  segments.forEach((s, i) => {
    out += encodeURIComponent(s) + strings[i + 1];
  });
  return out;
}

function pageQuery(page: MessagePage): string {
  const q = new URLSearchParams();
  if (page.before !== undefined) q.set("before", page.before);
  if (page.after !== undefined) q.set("after", page.after);
  if (page.around !== undefined) q.set("around", page.around);
  if (page.limit !== undefined) q.set("limit", String(page.limit));
  const s = q.toString();
  return s ? "?" + s : "";
}

export type Client = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function request<T>(method: string, path: string, body?: object, call?: CallOptions): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.token}`,
      Accept: "application/json",
    };
    const init: RequestInit = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (call?.signal) init.signal = call.signal;
    let res: Response;
    try {
      res = await doFetch(base + path, init);
    } catch (err) {
      if (call?.signal?.aborted) throw err;
      throw new ApiError(0, "network", err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, res.statusText, text);
    if (res.status === 204 || text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, "bad_response", `HTTP ${res.status}: the answer is not JSON`);
    }
  }

  const get = <T>(path: string, call?: CallOptions) => request<T>("GET", path, undefined, call);

  return {
    me: (call?: CallOptions) => get<Me>(apiPath`/me`, call),
    updateMe: (body: MeUpdate, call?: CallOptions) => request<Me>("PATCH", apiPath`/me`, body, call),

    communities: (call?: CallOptions) => get<Community[]>(apiPath`/communities`, call),
    createCommunity: (body: CommunityCreate, call?: CallOptions) =>
      request<Community>("POST", apiPath`/communities`, body, call),
    joinCommunity: (body: JoinRequest, call?: CallOptions) =>
      request<Community>("POST", apiPath`/communities/join`, body, call),
    community: (id: ID, call?: CallOptions) => get<Community>(apiPath`/communities/${id}`, call),
    updateCommunity: (id: ID, body: CommunityUpdate, call?: CallOptions) =>
      request<Community>("PATCH", apiPath`/communities/${id}`, body, call),
    deleteCommunity: (id: ID, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/communities/${id}`, undefined, call),
    leave: (id: ID, call?: CallOptions) =>
      request<void>("POST", apiPath`/communities/${id}/leave`, undefined, call),

    members: (id: ID, call?: CallOptions) => get<Member[]>(apiPath`/communities/${id}/members`, call),
    kick: (id: ID, user: Key, call?: CallOptions) =>
      request<void>("POST", apiPath`/communities/${id}/members/${user}/kick`, undefined, call),
    ban: (id: ID, user: Key, call?: CallOptions) =>
      request<void>("PUT", apiPath`/communities/${id}/bans/${user}`, undefined, call),
    unban: (id: ID, user: Key, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/communities/${id}/bans/${user}`, undefined, call),
    setMemberRoles: (id: ID, user: Key, roles: ID[], call?: CallOptions) =>
      request<void>("PUT", apiPath`/communities/${id}/members/${user}/roles`, { roles }, call),

    roles: (id: ID, call?: CallOptions) => get<Role[]>(apiPath`/communities/${id}/roles`, call),
    createRole: (id: ID, body: RoleCreate, call?: CallOptions) =>
      request<Role>("POST", apiPath`/communities/${id}/roles`, body, call),
    updateRole: (id: ID, role: ID, body: RoleUpdate, call?: CallOptions) =>
      request<Role>("PATCH", apiPath`/communities/${id}/roles/${role}`, body, call),
    deleteRole: (id: ID, role: ID, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/communities/${id}/roles/${role}`, undefined, call),

    invites: (id: ID, call?: CallOptions) => get<Invite[]>(apiPath`/communities/${id}/invites`, call),
    createInvite: (id: ID, body: InviteCreate = {}, call?: CallOptions) =>
      request<Invite>("POST", apiPath`/communities/${id}/invites`, body, call),
    revokeInvite: (id: ID, invite: ID, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/communities/${id}/invites/${invite}`, undefined, call),

    channels: (id: ID, call?: CallOptions) => get<Channel[]>(apiPath`/communities/${id}/channels`, call),
    createChannel: (id: ID, body: ChannelCreate, call?: CallOptions) =>
      request<Channel>("POST", apiPath`/communities/${id}/channels`, body, call),
    updateChannel: (channel: ID, body: ChannelUpdate, call?: CallOptions) =>
      request<Channel>("PATCH", apiPath`/channels/${channel}`, body, call),
    deleteChannel: (channel: ID, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/channels/${channel}`, undefined, call),

    /** A page of messages, oldest first. */
    messages: (channel: ID, page: MessagePage = {}, call?: CallOptions) =>
      get<Message[]>(apiPath`/channels/${channel}/messages` + pageQuery(page), call),
    sendMessage: (channel: ID, body: MessageCreate, call?: CallOptions) =>
      request<Message>("POST", apiPath`/channels/${channel}/messages`, body, call),
    editMessage: (message: ID, body: MessageUpdate, call?: CallOptions) =>
      request<Message>("PATCH", apiPath`/messages/${message}`, body, call),
    deleteMessage: (message: ID, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/messages/${message}`, undefined, call),
    react: (message: ID, emoji: string, call?: CallOptions) =>
      request<void>("PUT", apiPath`/messages/${message}/reactions/${emoji}`, undefined, call),
    unreact: (message: ID, emoji: string, call?: CallOptions) =>
      request<void>("DELETE", apiPath`/messages/${message}/reactions/${emoji}`, undefined, call),
    typing: (channel: ID, call?: CallOptions) =>
      request<void>("POST", apiPath`/channels/${channel}/typing`, undefined, call),

    network: (call?: CallOptions) => get<Network>(apiPath`/network`, call),

    relay: (call?: CallOptions) => get<Relay>(apiPath`/relay`, call),
    setRelay: (url: string, call?: CallOptions) => request<Relay>("PUT", apiPath`/relay`, { url }, call),
    forgetRelay: (call?: CallOptions) => request<void>("DELETE", apiPath`/relay`, undefined, call),
    registerRelay: (body: RelayCredentials, call?: CallOptions) =>
      request<Relay>("POST", apiPath`/relay/register`, body, call),
    loginRelay: (body: RelayCredentials, call?: CallOptions) => request<Relay>("POST", apiPath`/relay/login`, body, call),
    /** With wipe the node deletes this device's identity and data, and exits. */
    logoutRelay: (wipe: boolean, call?: CallOptions) =>
      request<void>("POST", apiPath`/relay/logout`, { wipe }, call),
    /** Asks the relay to carry the community (owner only) for offline delivery. */
    carryCommunity: (id: ID, call?: CallOptions) =>
      request<void>("POST", apiPath`/communities/${id}/relay`, undefined, call),
  };
}

// --- the token ---

/** Where the UI keeps the token for the tab's lifetime (reloads included). */
export const tokenStorageKey = "ancore.token";

/**
 * Splits the token out of a location hash ("#token=…&other=…"): the token,
 * or null, and the hash that remains ("" when nothing does).
 */
export function splitTokenHash(hash: string): { token: string | null; hash: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token");
  if (token === null) return { token: null, hash };
  params.delete("token");
  const rest = params.toString();
  return { token: token || null, hash: rest ? "#" + rest : "" };
}

export interface TokenEnvironment {
  storage: Pick<Storage, "getItem" | "setItem">;
  history: Pick<History, "replaceState" | "state">;
}

function browserTokenEnvironment(): TokenEnvironment {
  return { storage: window.sessionStorage, history: window.history };
}

/**
 * The API token: the node opens the UI at `http://127.0.0.1:PORT/#token=…`.
 * A token in the hash is kept in session storage and taken out of the
 * visible URL (so it is not bookmarked, shared or shown); without one,
 * the token kept earlier in this tab. null when there is none.
 */
export function tokenFromLocation(
  loc: Pick<Location, "pathname" | "search" | "hash">,
  env: TokenEnvironment = browserTokenEnvironment(),
): string | null {
  const { token, hash } = splitTokenHash(loc.hash);
  if (hash !== loc.hash) {
    env.history.replaceState(env.history.state, "", loc.pathname + loc.search + hash);
  }
  if (token === null) {
    try {
      return env.storage.getItem(tokenStorageKey);
    } catch {
      return null;
    }
  }
  try {
    env.storage.setItem(tokenStorageKey, token);
  } catch {
    // Storage may be disabled; the token still works for this page's life.
  }
  return token;
}
