// Reordering channels by drag and drop: the channel moved to where another
// was, within its own kind (text or voice), as the position changes to send.

import type { Channel, ID } from "@/api/types";

export interface Move {
  id: ID;
  position: number;
}

/**
 * The PATCHes that put `moved` where `target` is in `channels` (one kind,
 * in display order): every channel gets its index as its position, and
 * only those whose position changes are sent.
 */
export function reorderChannels(channels: readonly Channel[], moved: ID, target: ID): Move[] {
  const from = channels.findIndex((c) => c.id === moved);
  const to = channels.findIndex((c) => c.id === target);
  if (from < 0 || to < 0 || from === to) return [];
  const order = [...channels];
  const [item] = order.splice(from, 1);
  order.splice(to, 0, item as Channel);
  return order.flatMap((c, i) => (c.position === i ? [] : [{ id: c.id, position: i }]));
}
