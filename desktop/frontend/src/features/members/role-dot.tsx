// A role's colour as a dot, beside its name.

import { roleHex } from "./role-color";
import { cn } from "@/lib/utils";

/** A role's colour as a dot; a hollow one for no colour. */
export function RoleDot({ color, className }: { color: number; className?: string }) {
  return (
    <span
      aria-hidden
      className={cn("h-3 w-3 shrink-0 rounded-full", color ? "" : "border-2 border-muted-foreground", className)}
      style={color ? { backgroundColor: roleHex(color) } : undefined}
    />
  );
}
