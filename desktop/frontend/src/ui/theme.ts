// The colour theme: dark, light, or the system's; kept in localStorage.

export type Theme = "dark" | "light" | "system";

const key = "ancore.theme";

export function savedTheme(): Theme {
  const t = window.localStorage.getItem(key);
  return t === "light" || t === "system" ? t : "dark";
}

export function applyTheme(theme: Theme): void {
  window.localStorage.setItem(key, theme);
  const dark = theme === "dark" || (theme === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
}
