// What the message list writes about times and counts, and the link to a
// message. Pure, so the tests can pin them.

import type { Community, Message } from "@/api/types";
import { localDay } from "@/lib/group";

// One formatter each: Date's toLocale*String builds a new one per call,
// which costs more than the rest of a message row's render.
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const shortFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const longDayFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });

/** "14:32": a message's time of day, in the gutter and the new-messages bar. */
export function shortTime(date: Date): string {
  return timeFormat.format(date);
}

/** "Monday, 7 December 2026 at 14:32": the full date, in the time's tooltip. */
export function fullDate(date: Date): string {
  return fullFormat.format(date);
}

/** "7 December 2026": a day separator's date. */
export function longDay(date: Date): string {
  return longDayFormat.format(date);
}

/** A group header's time: "Today at 14:32", "Yesterday at 09:10", or the date and time. */
export function headerTime(date: Date, now: Date = new Date()): string {
  const day = localDay(date);
  if (day === localDay(now)) return `Today at ${shortTime(date)}`;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (day === localDay(yesterday)) return `Yesterday at ${shortTime(date)}`;
  return shortFormat.format(date);
}

/** "3 new messages since 14:32" (with the date when not today). */
export function newMessagesLabel(count: number, since: Date, now: Date = new Date()): string {
  const what = count === 1 ? "1 new message" : `${count} new messages`;
  const when = localDay(since) === localDay(now) ? shortTime(since) : `${shortTime(since)} on ${dayFormat.format(since)}`;
  return `${what} since ${when}`;
}

/**
 * The link "Copy link" puts on the clipboard:
 * ancore://message/<community>/<channel>/<message>, the IDs the node's API
 * names them by.
 */
export function messageLink(community: Pick<Community, "id">, message: Pick<Message, "channel" | "id">): string {
  return `ancore://message/${community.id}/${message.channel}/${message.id}`;
}
