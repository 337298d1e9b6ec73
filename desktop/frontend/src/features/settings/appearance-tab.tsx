// The theme: light, dark, or the system's, applied as soon as it is picked.

import { Monitor, Moon, Sun, type LucideIcon } from "lucide-react";
import { cn } from "@/lib/utils";
import { applyTheme, useTheme, type Theme } from "./theme";

const themes: { theme: Theme; label: string; hint: string; icon: LucideIcon }[] = [
  { theme: "light", label: "Light", hint: "Dark text on light surfaces", icon: Sun },
  { theme: "dark", label: "Dark", hint: "Light text on dark surfaces", icon: Moon },
  { theme: "system", label: "System", hint: "Follows your system's setting", icon: Monitor },
];

export function AppearanceTab() {
  const current = useTheme();
  return (
    <div className="grid gap-2">
      <h3 id="theme-label" className="text-sm font-medium">
        Theme
      </h3>
      <div role="radiogroup" aria-labelledby="theme-label" className="grid gap-2 sm:grid-cols-3">
        {themes.map(({ theme, label, hint, icon: Icon }) => (
          <button
            key={theme}
            type="button"
            role="radio"
            aria-checked={current === theme}
            data-testid={`theme-${theme}`}
            onClick={() => applyTheme(theme)}
            className={cn(
              "flex items-center gap-3 rounded-md border p-3 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring sm:flex-col sm:items-start",
              current === theme ? "border-primary ring-1 ring-primary" : "hover:bg-accent/60",
            )}
          >
            <Icon aria-hidden className="h-5 w-5" />
            <span>
              <span className="block font-medium">{label}</span>
              <span className="block text-xs text-muted-foreground">{hint}</span>
            </span>
          </button>
        ))}
      </div>
    </div>
  );
}
