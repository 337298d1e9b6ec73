// When an invite expires, for people: "never", "in 5 hours", "expired 2 days ago".

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** A time relative to now in its largest whole unit ("in 3 days", "2 hours ago"); under a minute, "now". */
export function relativeTime(at: Date, now: Date = new Date()): string {
  const ms = at.getTime() - now.getTime();
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(ms) >= size) return rtf.format(Math.trunc(ms / size), unit);
  }
  return "now";
}

export function expiryText(expiresAt: string | null, now: Date = new Date()): string {
  if (expiresAt === null) return "never";
  const at = new Date(expiresAt);
  return at <= now ? `expired ${relativeTime(at, now)}` : relativeTime(at, now);
}
