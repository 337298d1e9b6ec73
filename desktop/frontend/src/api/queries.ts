// Server state: each query of the node API as a named hook that owns its
// key and fetcher, and the invalidations that events and mutations use.
// Keys are openapi-react-query's [method, path, init], so a key built here
// matches the one its hook caches under, and a shorter one (without init)
// matches every parameter set of the route.

import { useMemo } from "react";
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useSession } from "@/app/session";
import type { ID, Key } from "./types";

/** The page of latest messages a channel opens on, and its size. */
export const latestPageSize = 50;
/** How many of a channel's latest messages are counted for its unread badge; more shows as this many. */
export const countedPageSize = 100;

const communityInit = (id: ID) => ({ params: { path: { id } } });
const latestInit = (channel: ID, limit: number) => ({ params: { path: { id: channel }, query: { limit } } });

/** Query keys, by resource. */
export const keys = {
  me: ["get", "/me"],
  communities: ["get", "/communities"],
  members: (community: ID) => ["get", "/communities/{id}/members", communityInit(community)],
  invites: (community: ID) => ["get", "/communities/{id}/invites", communityInit(community)],
  /** Every cached page of a channel: the latest and the unread count's. */
  pages: (channel: ID) => ["get", "/channels/{id}/messages", { params: { path: { id: channel } } }],
  network: ["get", "/network"],
  relay: ["get", "/relay"],
  calls: ["get", "/calls"],
} as const;

export function useMe() {
  return useSession().queries.useQuery("get", "/me");
}

export function useCommunities() {
  return useSession().queries.useQuery("get", "/communities");
}

/** The current call (if any) first, then the recent ones; kept current by call:state events. */
export function useCalls() {
  return useSession().queries.useQuery("get", "/calls");
}

export function useMembers(community: ID) {
  return useSession().queries.useQuery("get", "/communities/{id}/members", communityInit(community));
}

export function useInvites(community: ID, enabled = true) {
  return useSession().queries.useQuery("get", "/communities/{id}/invites", communityInit(community), { enabled });
}

/** A channel's latest page; refetched when a bulk sync says the channel changed. */
export function useLatestPage(channel: ID) {
  return useSession().queries.useQuery("get", "/channels/{id}/messages", latestInit(channel, latestPageSize));
}

/** A text channel's latest messages, fetched once for its unread count. */
export function useCountedPage(channel: ID) {
  return useSession().queries.useQuery("get", "/channels/{id}/messages", latestInit(channel, countedPageSize), { staleTime: Infinity });
}

export function useNetwork() {
  return useSession().queries.useQuery("get", "/network");
}

/** The limits the node checks input against; they do not change while it runs. */
export function useLimits() {
  return useSession().queries.useQuery("get", "/limits", undefined, { staleTime: Infinity });
}

/** The relay's status; a node without relay support answers 404, which is not retried. */
export function useRelay(retry: (failures: number, err: unknown) => boolean) {
  return useSession().queries.useQuery("get", "/relay", undefined, { retry });
}

/**
 * What community an invite link leads to, as a member named in it shows it
 * (null: none to ask about). A refusal is an answer, so it is not retried.
 */
export function useInvitePreview(link: string | null) {
  return useSession().queries.useQuery("post", "/invites/preview", { body: { invite: link ?? "" } }, { enabled: link !== null, retry: false, staleTime: 60_000 });
}

/** A Blob's bytes as a data: URL, which outlives the Blob (the CSP allows data: images). */
export async function dataURL(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type || "application/octet-stream"};base64,${btoa(binary)}`;
}

/**
 * An avatar as a data: URL, or null while there is none (or it loads): a
 * member's in a community, or the local user's without one. `tag` (Me's or
 * Member's avatar) names the picture, so each picture is fetched once and
 * a changed one as soon as the tag changes; no tag, no request.
 */
export function useAvatar(tag: string | undefined, where?: { community: ID; user: Key }): string | null {
  const { api } = useSession();
  const query = useQuery({
    queryKey: ["avatar", where?.community ?? "me", where?.user ?? "me", tag],
    enabled: Boolean(tag),
    staleTime: Infinity,
    queryFn: async ({ signal }) => {
      const res = where
        ? await api.GET("/communities/{id}/members/{user}/avatar", { params: { path: { id: where.community, user: where.user } }, parseAs: "blob", signal })
        : await api.GET("/me/avatar", { parseAs: "blob", signal });
      return dataURL(res.data as Blob);
    },
  });
  return (tag && query.data) || null;
}

/** Marks queries stale (refetching those on screen), by resource. */
export function invalidator(qc: QueryClient) {
  const inv = (queryKey: readonly unknown[]) => void qc.invalidateQueries({ queryKey });
  return {
    all: () => void qc.invalidateQueries(),
    me: () => inv(keys.me),
    communities: () => inv(keys.communities),
    members: (community: ID) => inv(keys.members(community)),
    invites: (community: ID) => inv(keys.invites(community)),
    pages: (channel: ID) => inv(keys.pages(channel)),
    network: () => inv(keys.network),
    relay: () => inv(keys.relay),
    calls: () => inv(keys.calls),
  };
}

export type Invalidate = ReturnType<typeof invalidator>;

/** The invalidations, the same object while the query client is. */
export function useInvalidate(): Invalidate {
  const qc = useQueryClient();
  return useMemo(() => invalidator(qc), [qc]);
}
