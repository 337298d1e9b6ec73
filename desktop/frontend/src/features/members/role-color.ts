// Role colours (0xRRGGBB, 0 for none) as CSS colours. Names in a role's
// colour are text, so they are shifted towards the theme's foreground
// until they meet WCAG AA (4.5:1) on the surfaces names are shown on; the
// role's own swatch keeps the colour as chosen.

import { useResolvedTheme } from "@/features/settings/theme";

/** The colour as #rrggbb. */
export function roleHex(color: number): string {
  return `#${(color & 0xffffff).toString(16).padStart(6, "0")}`;
}

type RGB = [number, number, number];

const rgbOf = (color: number): RGB => [(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff];

function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: RGB, b: RGB): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

// The hardest surface a name sits on in each theme: the light theme's
// hovered row (accent, hsl 240 5% 90%), the dark theme's (hsl 220 7% 28%).
const surfaces: Record<"light" | "dark", RGB> = { light: [228, 228, 231], dark: [66, 70, 77] };
const towards: Record<"light" | "dark", RGB> = { light: [0, 0, 0], dark: [255, 255, 255] };

/** The role colour as text readable in the theme; undefined for no colour (the text keeps its own). */
export function readableRoleColor(color: number, theme: "light" | "dark"): string | undefined {
  if (!color) return undefined;
  const rgb = rgbOf(color);
  const target = towards[theme];
  for (let t = 0; t <= 1; t += 0.05) {
    const mixed = rgb.map((c, i) => Math.round(c + (target[i]! - c) * t)) as RGB;
    if (contrast(mixed, surfaces[theme]) >= 4.5) return `rgb(${mixed.join(" ")})`;
  }
  return `rgb(${target.join(" ")})`;
}

/** readableRoleColor for the theme shown now. */
export function useRoleTextColor(): (color: number) => string | undefined {
  const theme = useResolvedTheme();
  return (color) => readableRoleColor(color, theme);
}
