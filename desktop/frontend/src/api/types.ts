// The node API's resources and events under the names the UI uses, all
// derived from the generated schema (schema.d.ts, from
// docs/api/openapi.yaml by `npm run gen`): nothing here is written by hand
// but the names and what the schema cannot say (the page anchors' union).

import type { components } from "./schema";

type Schemas = components["schemas"];

/** A CID string naming a community, channel, role, invite or message. */
export type ID = Schemas["ID"];
/** A user's or device's public key, unpadded lowercase base32. */
export type Key = Schemas["Key"];
/** An RFC 3339 timestamp as the node writes it. */
export type Timestamp = string;

export type Permission = Schemas["Permission"];
export type PresenceStatus = Schemas["PresenceStatus"];
export type ErrorCode = Schemas["Error"]["error"]["code"];

export type Me = Schemas["Me"];
export type MyStatus = Me["status"];
export type Community = Schemas["Community"];
export type Channel = Schemas["Channel"];
export type Role = Schemas["Role"];
export type Member = Schemas["Member"];
export type Invite = Schemas["Invite"];
export type InvitePreview = Schemas["InvitePreview"];
export type Message = Schemas["Message"];
export type Reaction = Schemas["Reaction"];
export type Network = Schemas["Network"];
export type NetworkRelay = Schemas["NetworkRelay"];
export type Relay = Schemas["Relay"];
export type SyncEvent = Schemas["SyncEvent"];
export type Limits = Schemas["Limits"];
export type Call = Schemas["Call"];
export type CallState = Call["state"];

export type MeUpdate = Schemas["MeUpdate"];
export type RoleCreate = Schemas["RoleCreate"];
export type RoleUpdate = Schemas["RoleUpdate"];
export type InviteCreate = Schemas["InviteCreate"];
export type ChannelCreate = Schemas["ChannelCreate"];
export type ChannelUpdate = Schemas["ChannelUpdate"];
export type MessageCreate = Schemas["MessageCreate"];
export type MessageUpdate = Schemas["MessageUpdate"];
export type RelayCredentials = Schemas["RelayCredentials"];

/** One envelope on the event stream, discriminated by `type`. */
export type ApiEvent = Schemas["Event"];
export type EventType = ApiEvent["type"];

// Every event type the schema has; `satisfies` fails the build when the
// schema gains one that is not listed here.
const eventTypeSet = {
  hello: true,
  resync: true,
  "message:new": true,
  "message:update": true,
  "message:delete": true,
  "reaction:add": true,
  "reaction:remove": true,
  "channel:create": true,
  "channel:update": true,
  "channel:delete": true,
  "community:update": true,
  "member:join": true,
  "member:leave": true,
  "member:update": true,
  "network:update": true,
  "user:presence": true,
  "user:typing": true,
  "sync:progress": true,
  "call:state": true,
} as const satisfies Record<EventType, true>;

/** Whether the stream can send events of this type. */
export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventTypeSet, type);
}

/** Which page of a channel's history: at most one anchor, limit 1–100 (default 50). */
export type MessagePage =
  | { before?: undefined; after?: undefined; around?: undefined; limit?: number }
  | { before: ID; after?: undefined; around?: undefined; limit?: number }
  | { before?: undefined; after: ID; around?: undefined; limit?: number }
  | { before?: undefined; after?: undefined; around: ID; limit?: number };
