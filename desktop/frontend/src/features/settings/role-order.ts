// Moving a role up or down the role list. Positions are the node's
// (higher outranks lower, @everyone is 0 and stays last; a role's
// position is at least 1), and several roles may share one.

import type { ID, Role } from "@/api/types";
import { byPosition } from "@/features/members/group";

export interface PositionChange {
  role: ID;
  position: number;
}

/**
 * The changes that move role `id` one place up (towards the top) or down
 * the list: its position and its neighbour's swap; when they share one,
 * the one that should end above gets one more.
 */
export function moveRole(roles: readonly Role[], everyone: ID, id: ID, direction: "up" | "down"): PositionChange[] {
  const ranked = byPosition(roles.filter((r) => r.id !== everyone));
  const i = ranked.findIndex((r) => r.id === id);
  const j = direction === "up" ? i - 1 : i + 1;
  const role = ranked[i];
  const other = ranked[j];
  if (i < 0 || !role || !other) return [];
  if (role.position !== other.position) {
    return [
      { role: role.id, position: other.position },
      { role: other.id, position: role.position },
    ];
  }
  const above = direction === "up" ? role : other;
  return [{ role: above.id, position: above.position + 1 }];
}
