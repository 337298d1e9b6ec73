import { describe, expect, it } from "vitest";
import type { ApiEvent, Community, Member } from "@/api/types";
import { departureNotice } from "./departures";

const ME = "m".repeat(52);
const OTHER = "o".repeat(52);
const names: Record<string, string> = { c1: "Walkers Guild" };
const nameOf = (id: string) => names[id];

const community: Community = {
  id: "c1", name: "Walkers Guild", owner: OTHER, channels: [], roles: [], my_permissions: [], my_roles: [],
  member: false, dissolved: true, carried: false,
};
const member = (user: string, state: Member["state"]): Member => ({
  user, name: "Me", state, roles: [], owner: false, joined_at: "2026-12-01T00:00:00Z", status: "offline", status_text: "",
});
const leave = (user: string, state: Member["state"]): ApiEvent => ({ type: "member:leave", seq: 2, data: { community: "c1", member: member(user, state) } });

describe("departureNotice", () => {
  it("tells the local user why a community left", () => {
    expect(departureNotice({ type: "community:update", seq: 1, data: community }, ME, nameOf)).toBe("Walkers Guild was dissolved by its owner");
    expect(departureNotice(leave(ME, "kicked"), ME, nameOf)).toBe("You were removed from Walkers Guild");
    expect(departureNotice(leave(ME, "banned"), ME, nameOf)).toBe("You were banned from Walkers Guild");
  });

  it("says nothing of others, of leaving by choice, or of a live community", () => {
    expect(departureNotice(leave(OTHER, "kicked"), ME, nameOf)).toBeNull();
    expect(departureNotice(leave(ME, "left"), ME, nameOf)).toBeNull();
    expect(departureNotice({ type: "community:update", seq: 1, data: { ...community, dissolved: false } }, ME, nameOf)).toBeNull();
  });

  it("names an unknown community plainly", () => {
    expect(departureNotice({ type: "member:leave", seq: 3, data: { community: "c9", member: member(ME, "kicked") } }, ME, nameOf)).toBe("You were removed from a community");
  });
});
