import { describe, expect, it } from "vitest";
import type { Permission } from "@/api/types";
import { allPermissions, permissionText } from "./permissions";

// The schema's Permission enum, spelled out: a new permission must be added here, to the labels and to a group.
const schema: Record<Permission, true> = {
  "manage-community": true,
  "manage-channels": true,
  "manage-roles": true,
  kick: true,
  ban: true,
  "create-invites": true,
  "send-messages": true,
  "manage-messages": true,
  "attach-files": true,
  "add-reactions": true,
  connect: true,
  speak: true,
  video: true,
  administrator: true,
};

describe("permission labels", () => {
  it("label and describe every permission, in exactly one group", () => {
    const every = Object.keys(schema).sort();
    expect(every).toHaveLength(14);
    expect([...allPermissions].sort()).toEqual(every);
    expect(Object.keys(permissionText).sort()).toEqual(every);
    for (const p of allPermissions) {
      expect(permissionText[p].label).not.toMatch(/-/);
      expect(permissionText[p].label).not.toBe(p);
      expect(permissionText[p].description.length).toBeGreaterThan(10);
    }
  });

  it("say what manage-messages lets one do", () => {
    expect(permissionText["manage-messages"]).toEqual({ label: "Manage messages", description: "Delete others' messages." });
  });
});
