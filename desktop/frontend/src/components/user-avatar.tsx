// A user's avatar: their picture, or initials on a colour of their key
// while there is none (or it loads), with their presence as a dot.

import type { PresenceStatus } from "@/api/types";
import { Avatar, AvatarFallback, AvatarImage } from "@/components/ui/avatar";
import { cn } from "@/lib/utils";

/** Up to two initials of a display name. */
export function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => [...w][0]?.toUpperCase() ?? "")
      .join("") || "?"
  );
}

// Backgrounds that keep white initials at AA contrast in both themes.
const palette = ["bg-indigo-600", "bg-emerald-700", "bg-rose-700", "bg-amber-700", "bg-sky-700", "bg-violet-700", "bg-teal-700", "bg-fuchsia-700"];

function colourOf(key: string): string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return palette[Math.abs(h) % palette.length] as string;
}

export const statusLabel: Record<PresenceStatus | "invisible", string> = {
  online: "Online",
  idle: "Idle",
  dnd: "Do not disturb",
  offline: "Offline",
  invisible: "Invisible",
};

const statusDot: Record<PresenceStatus | "invisible", string> = {
  online: "bg-emerald-500",
  idle: "bg-amber-400",
  dnd: "bg-red-500",
  offline: "bg-zinc-400",
  invisible: "bg-zinc-400",
};

export function UserAvatar({ user, name, picture, status, size = "md", className }: {
  user: string;
  name: string;
  /** The picture's URL (useAvatar); null or absent for the initials. */
  picture?: string | null;
  status?: PresenceStatus | "invisible";
  size?: "sm" | "md" | "lg";
  className?: string;
}) {
  const box = size === "sm" ? "h-6 w-6 text-[10px]" : size === "lg" ? "h-16 w-16 text-xl" : "h-8 w-8 text-xs";
  return (
    <span className={cn("relative inline-flex shrink-0", className)}>
      <Avatar className={box}>
        {picture && <AvatarImage src={picture} alt="" data-testid="avatar-picture" />}
        <AvatarFallback className={cn("font-semibold text-white", colourOf(user))}>{initials(name)}</AvatarFallback>
      </Avatar>
      {status && (
        <span
          role="img"
          aria-label={statusLabel[status]}
          className={cn("absolute -bottom-0.5 -right-0.5 h-3 w-3 rounded-full border-2 border-sidebar", statusDot[status])}
        />
      )}
    </span>
  );
}
