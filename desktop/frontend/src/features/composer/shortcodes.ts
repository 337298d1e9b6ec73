// :shortcode: completion: typing ":" and two or more letters offers the
// emoji whose GitHub shortcode matches (":thumbsu" → 👍 thumbsup), and a
// complete ":tada:" followed by a space or punctuation becomes 🎉. The
// shortcodes (emojibase-data, about 45 KB) load on first use, in their
// own chunk, so they are not in the initial bundle.

/** One emoji under one of its shortcodes. */
export interface Shortcode {
  code: string;
  emoji: string;
}

/** Every shortcode, in the dataset's order, and the emoji of each by code. */
export interface ShortcodeIndex {
  list: readonly Shortcode[];
  byCode: ReadonlyMap<string, string>;
}

/** emojibase's shortcode dataset: hexcode ("1F44D", "1F468-200D-1F469") → one shortcode or several. */
export type ShortcodeData = Record<string, string | readonly string[]>;

/** Loads the shortcode index; injectable so tests need not load the dataset. */
export type ShortcodeSource = () => Promise<ShortcodeIndex>;

const emojiPresentation = /\p{Emoji_Presentation}/u;

/**
 * The emoji of an emojibase hexcode. A lone code point that shows as text
 * by default (☀, ❤) gets the emoji variation selector, as the picker's
 * emoji have it, so a reaction from either is the same string.
 */
export function emojiOf(hexcode: string): string {
  const points = hexcode.split("-").map((h) => Number.parseInt(h, 16));
  const emoji = String.fromCodePoint(...points);
  return points.length === 1 && !emojiPresentation.test(emoji) ? `${emoji}\uFE0F` : emoji;
}

export function indexShortcodes(data: ShortcodeData): ShortcodeIndex {
  const list: Shortcode[] = [];
  const byCode = new Map<string, string>();
  for (const [hexcode, codes] of Object.entries(data)) {
    const emoji = emojiOf(hexcode);
    for (const code of typeof codes === "string" ? [codes] : codes) {
      if (byCode.has(code)) continue;
      byCode.set(code, emoji);
      list.push({ code, emoji });
    }
  }
  return { list, byCode };
}

let loading: Promise<ShortcodeIndex> | null = null;

/** The GitHub shortcodes, loaded once. */
export const loadShortcodes: ShortcodeSource = () => {
  loading ??= import("emojibase-data/en/shortcodes/github.json").then(
    (m) => indexShortcodes(m.default as ShortcodeData),
    (err: unknown) => {
      loading = null; // the next ":" tries again
      throw err;
    },
  );
  return loading;
};

/** The ":letters" being typed just before the caret. */
export interface ShortcodeQuery {
  /** Where the ":" is. */
  start: number;
  /** The letters after it. */
  query: string;
}

/** How many emoji the completion offers at most. */
export const maxShortcodes = 8;

const codeChar = /[a-z0-9_+-]/i;
const wordChar = /[\p{L}\p{N}_]/u;

/**
 * The shortcode being typed when the caret ends ":" and at least two
 * letters that start a word ("12:30" and "http://x" do not); null otherwise.
 */
export function shortcodeQuery(text: string, caret: number): ShortcodeQuery | null {
  let i = caret;
  while (i > 0 && codeChar.test(text[i - 1] as string)) i--;
  if (text[i - 1] !== ":" || caret - i < 2) return null;
  const start = i - 1;
  const before = text[start - 1];
  if (before !== undefined && (wordChar.test(before) || before === ":")) return null;
  return { start, query: text.slice(i, caret) };
}

/** The shortcodes a query matches: those starting with it (shortest first), then those containing it. */
export function matchShortcodes(index: ShortcodeIndex, query: string): Shortcode[] {
  const q = query.toLowerCase();
  const starts: Shortcode[] = [];
  const contains: Shortcode[] = [];
  for (const s of index.list) {
    if (s.code.startsWith(q)) starts.push(s);
    else if (contains.length < maxShortcodes && s.code.includes(q)) contains.push(s);
  }
  starts.sort((a, b) => a.code.length - b.code.length || a.code.localeCompare(b.code));
  const seen = new Set<string>();
  const out: Shortcode[] = [];
  for (const s of [...starts, ...contains]) {
    if (seen.has(s.emoji)) continue; // one emoji once, under its best code
    seen.add(s.emoji);
    out.push(s);
    if (out.length === maxShortcodes) break;
  }
  return out;
}

/** The text with the query replaced by the emoji and a space, and where the caret goes. */
export function insertEmoji(text: string, q: ShortcodeQuery, emoji: string): { text: string; caret: number } {
  const end = q.start + 1 + q.query.length;
  const rest = text.slice(end).replace(/^ /, "");
  const written = `${emoji} `;
  return { text: text.slice(0, q.start) + written + rest, caret: q.start + written.length };
}

/**
 * A complete ":code:" just typed, followed by a space or punctuation,
 * turned into its emoji; null when the text does not end so at the caret
 * or the code is unknown.
 */
export function replaceShortcode(text: string, caret: number, index: ShortcodeIndex): { text: string; caret: number } | null {
  const after = text[caret - 1];
  if (after === undefined || !/[\s.,!?;)]/.test(after)) return null;
  const m = /(^|[^\p{L}\p{N}_:]):([a-z0-9_+-]{2,}):$/iu.exec(text.slice(0, caret - 1));
  if (!m) return null;
  const emoji = index.byCode.get((m[2] as string).toLowerCase());
  if (emoji === undefined) return null;
  const start = caret - 1 - (m[2] as string).length - 2;
  return { text: text.slice(0, start) + emoji + text.slice(caret - 1), caret: start + emoji.length + 1 };
}
