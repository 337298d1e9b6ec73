// The colour theme: dark, light, or the system's (following it live);
// kept in localStorage.

import { useSyncExternalStore } from "react";

export type Theme = "dark" | "light" | "system";

const key = "ancore.theme";
const listeners = new Set<() => void>();
const systemDark = () => window.matchMedia("(prefers-color-scheme: dark)");

export function savedTheme(): Theme {
  let t: string | null = null;
  try {
    t = window.localStorage.getItem(key);
  } catch {
    // Storage disabled: the default.
  }
  return t === "light" || t === "dark" || t === "system" ? t : "system";
}

/** Whether the theme shows dark now. */
export function resolveTheme(theme: Theme): "dark" | "light" {
  return theme === "dark" || (theme === "system" && systemDark().matches) ? "dark" : "light";
}

function paint(): void {
  document.documentElement.classList.toggle("dark", resolveTheme(savedTheme()) === "dark");
  for (const l of listeners) l();
}

export function applyTheme(theme: Theme): void {
  try {
    window.localStorage.setItem(key, theme);
  } catch {
    // Kept for this page's life only.
  }
  paint();
}

/** Paints the saved theme and follows the system's while it is "system". */
export function watchSystemTheme(): () => void {
  paint();
  const mq = systemDark();
  mq.addEventListener("change", paint);
  return () => mq.removeEventListener("change", paint);
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, savedTheme);
}

export function useResolvedTheme(): "dark" | "light" {
  return useSyncExternalStore(subscribe, () => resolveTheme(savedTheme()));
}
