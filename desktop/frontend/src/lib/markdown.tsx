// Message formatting: a small Markdown dialect parsed into a tree and
// rendered as React elements. Nothing in a message ever becomes HTML: text
// is rendered as text (React escapes it), and links are made only for
// http, https and mailto URLs.
//
// The dialect: **bold**, *italic* and _italic_, `code`, ```fenced code
// blocks``` (with an optional language after the opening fence), links as
// [text](url) and bare http(s) URLs, mentions written <@user-key> (shown
// with the user's name), @everyone, and line breaks. A backslash makes the
// next punctuation character literal.

import { useMemo, type ReactNode } from "react";
import type { Key } from "./api";

export type MdNode =
  | { kind: "text"; text: string }
  | { kind: "break" }
  | { kind: "strong"; children: MdNode[] }
  | { kind: "em"; children: MdNode[] }
  | { kind: "code"; text: string }
  | { kind: "codeblock"; lang: string; text: string }
  | { kind: "link"; href: string; children: MdNode[] }
  | { kind: "mention"; user: Key }
  | { kind: "everyone" };

/** How a mention of user is written in a message's text. */
export function mentionToken(user: Key): string {
  return `<@${user}>`;
}

const safeProtocols = new Set(["http:", "https:", "mailto:"]);

/** The URL to link to, normalized, when it is absolute http, https or mailto; else null. */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return safeProtocols.has(url.protocol) ? url.href : null;
}

// Deeper emphasis than this is shown as the characters typed.
const maxDepth = 8;
const escapable = new Set("\\`*_[]()<>@#~|!.-+{}".split(""));
const mentionPattern = /<@([a-z2-7]{52})>/y;
const autolinkPattern = /https?:\/\/[^\s<>"`]+/iy;

interface Context {
  depth: number;
  /** false inside a link's text: links do not nest. */
  links: boolean;
}

const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

function runLength(s: string, i: number, c: string): number {
  let j = i;
  while (s[j] === c) j++;
  return j - i;
}

/** Where the code span opened by a run of n backticks at i closes, or -1. */
function codeSpanClose(s: string, i: number, n: number): number {
  let j = i + n;
  while (j < s.length) {
    const k = s.indexOf("`", j);
    if (k < 0) return -1;
    const run = runLength(s, k, "`");
    if (run === n) return k;
    j = k + run;
  }
  return -1;
}

/** Where the next syntax element at or after j starts, skipping escapes and code spans (which hide delimiters). */
function skipLiteral(s: string, j: number): number {
  if (s[j] === "\\" && escapable.has(s[j + 1] ?? "")) return j + 2;
  if (s[j] === "`") {
    const n = runLength(s, j, "`");
    const close = codeSpanClose(s, j, n);
    return close < 0 ? j + n : close + n;
  }
  return j;
}

const isPunctuation = (c: string | undefined) => c !== undefined && /[\p{P}\p{S}]/u.test(c);

/**
 * Whether a run of delimiters d from start to end can open or close
 * emphasis, by CommonMark's flanking rules: `*` opens when the run leans on
 * the text after it and closes when it leans on the text before; `_` also
 * must not stand inside a word (snake_case stays as typed).
 */
function delimiterRole(s: string, start: number, end: number, d: string): { open: boolean; close: boolean } {
  const before = s[start - 1];
  const after = s[end];
  const left = !isSpace(after) && (!isPunctuation(after) || isSpace(before) || isPunctuation(before));
  const right = !isSpace(before) && (!isPunctuation(before) || isSpace(after) || isPunctuation(after));
  if (d === "*") return { open: left, close: right };
  return { open: left && (!right || isPunctuation(before)), close: right && (!left || isPunctuation(after)) };
}

// Emphasis nested deeper than this while looking for a closer is not looked into.
const maxSearchDepth = 64;

/**
 * Finds emphasis closers in one string. The closer of emphasis of width 1
 * or 2 whose content starts at `from` is the first run that can close it
 * and is not inside emphasis opened in between (which is skipped whole), so
 * **a *b* c** and *a **b** c* nest. It closes with the first characters of
 * its run, so ***a*** is strong around em. Results are kept: every search
 * runs once, so unclosed delimiters cost no more than quadratic time.
 */
function closerFinder(s: string): (from: number, d: string, width: number) => number {
  const found = new Map<string, number>();
  const find = (from: number, d: string, width: number, depth: number): number => {
    const key = `${from}:${d}:${width}`;
    const known = found.get(key);
    if (known !== undefined) return known;
    if (depth > maxSearchDepth) return -1;
    let result = -1;
    let j = from;
    while (j < s.length) {
      const k = skipLiteral(s, j);
      if (k !== j) {
        j = k;
        continue;
      }
      if (s[j] !== d) {
        j++;
        continue;
      }
      const run = runLength(s, j, d);
      const role = delimiterRole(s, j, j + run, d);
      if (j > from && run >= width && role.close) {
        result = j;
        break;
      }
      if (role.open) {
        const w = run >= 2 ? 2 : 1;
        const inner = find(j + w, d, w, depth + 1);
        if (inner >= 0) {
          j = inner + w;
          continue;
        }
        // What closes nothing of this width from there closes nothing from here either.
        if (w === width) break;
      }
      j += run;
    }
    found.set(key, result);
    return result;
  };
  return (from, d, width) => find(from, d, width, 0);
}

interface Parsed {
  node: MdNode;
  end: number;
}

function emphasis(s: string, i: number, ctx: Context, findCloser: ReturnType<typeof closerFinder>): Parsed | null {
  const d = s[i] as string;
  if (ctx.depth >= maxDepth) return null;
  const run = runLength(s, i, d);
  if (!delimiterRole(s, i, i + run, d).open) return null;
  const width = run >= 2 ? 2 : 1;
  const close = findCloser(i + width, d, width);
  if (close < 0) return null;
  const children = parseInline(s.slice(i + width, close), { ...ctx, depth: ctx.depth + 1 });
  return { node: { kind: width === 2 ? "strong" : "em", children }, end: close + width };
}

/** The index of the bracket closing the one at i, or -1. */
function matchingBracket(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const k = open === "[" ? skipLiteral(s, j) : j;
    if (k !== j) {
      j = k;
      continue;
    }
    if (s[j] === open) depth++;
    else if (s[j] === close && --depth === 0) return j;
    j++;
  }
  return -1;
}

function link(s: string, i: number, ctx: Context): Parsed | null {
  const textEnd = matchingBracket(s, i, "[", "]");
  if (textEnd < 0 || s[textEnd + 1] !== "(") return null;
  const urlEnd = matchingBracket(s, textEnd + 1, "(", ")");
  if (urlEnd < 0) return null;
  const url = s.slice(textEnd + 2, urlEnd).trim();
  if (/\s/.test(url)) return null;
  const href = safeHref(url);
  if (href === null) return null;
  const text = s.slice(i + 1, textEnd);
  const children = text.trim()
    ? parseInline(text, { depth: ctx.depth + 1, links: false })
    : [{ kind: "text" as const, text: url }];
  return { node: { kind: "link", href, children }, end: urlEnd + 1 };
}

function autolink(s: string, i: number): Parsed | null {
  if (isWordChar(s[i - 1])) return null;
  autolinkPattern.lastIndex = i;
  const m = autolinkPattern.exec(s);
  if (!m) return null;
  let url = m[0];
  // Punctuation that ends a sentence or closes a bracket the URL did not open is not part of it.
  for (;;) {
    const last = url[url.length - 1];
    const unbalanced = last === ")" && url.split("(").length < url.split(")").length;
    if (last !== undefined && (".,:;!?'*_".includes(last) || unbalanced)) url = url.slice(0, -1);
    else break;
  }
  const href = safeHref(url);
  if (href === null) return null;
  return { node: { kind: "link", href, children: [{ kind: "text", text: url }] }, end: i + url.length };
}

function parseInline(s: string, ctx: Context): MdNode[] {
  const findCloser = closerFinder(s);
  const out: MdNode[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push({ kind: "text", text });
    text = "";
  };
  const push = (p: Parsed) => {
    flush();
    out.push(p.node);
    return p.end;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "\\" && escapable.has(s[i + 1] ?? "")) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "\n") {
      flush();
      out.push({ kind: "break" });
      i++;
      continue;
    }
    if (c === "`") {
      const n = runLength(s, i, "`");
      const close = codeSpanClose(s, i, n);
      if (close < 0) {
        text += s.slice(i, i + n);
        i += n;
        continue;
      }
      let code = s.slice(i + n, close);
      if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) code = code.slice(1, -1);
      i = push({ node: { kind: "code", text: code }, end: close + n });
      continue;
    }
    if (c === "*" || c === "_") {
      const p = emphasis(s, i, ctx, findCloser);
      if (p) {
        i = push(p);
      } else {
        // One literal delimiter; the rest of its run may still open emphasis.
        text += c;
        i++;
      }
      continue;
    }
    if (c === "[" && ctx.links) {
      const p = link(s, i, ctx);
      if (p) {
        i = push(p);
        continue;
      }
    }
    if ((c === "h" || c === "H") && ctx.links) {
      const p = autolink(s, i);
      if (p) {
        i = push(p);
        continue;
      }
    }
    if (c === "<") {
      mentionPattern.lastIndex = i;
      const m = mentionPattern.exec(s);
      if (m) {
        i = push({ node: { kind: "mention", user: m[1] as Key }, end: i + m[0].length });
        continue;
      }
    }
    if (c === "@" && s.startsWith("@everyone", i) && !isWordChar(s[i - 1]) && !isWordChar(s[i + 9])) {
      i = push({ node: { kind: "everyone" }, end: i + 9 });
      continue;
    }
    text += c;
    i++;
  }
  flush();
  return out;
}

/** Parses a message's text into the formatting tree. */
export function parseMarkdown(text: string): MdNode[] {
  const out: MdNode[] = [];
  const ctx: Context = { depth: 0, links: true };
  let i = 0;
  for (;;) {
    const open = text.indexOf("```", i);
    if (open < 0) break;
    const close = text.indexOf("```", open + 3);
    if (close < 0) break;
    // The line break before a block belongs to the block.
    out.push(...parseInline(text.slice(i, open).replace(/\n$/, ""), ctx));
    let body = text.slice(open + 3, close);
    let lang = "";
    const info = /^([\w+#.-]+)\n/.exec(body);
    if (info) {
      lang = info[1] as string;
      body = body.slice(info[0].length);
    } else if (body.startsWith("\n")) {
      body = body.slice(1);
    }
    out.push({ kind: "codeblock", lang, text: body.replace(/\n$/, "") });
    i = close + 3;
    if (text[i] === "\n") i++;
  }
  out.push(...parseInline(text.slice(i), ctx));
  return out;
}

/** Calls visit on every node of a text's tree outside code. */
function walkText(text: string, visit: (n: MdNode) => void): void {
  const walk = (nodes: MdNode[]) => {
    for (const n of nodes) {
      visit(n);
      if (n.kind === "strong" || n.kind === "em" || n.kind === "link") walk(n.children);
    }
  };
  walk(parseMarkdown(text));
}

/** The users a text mentions (outside code), in order of first mention. */
export function mentionedUsers(text: string): Key[] {
  const users = new Set<Key>();
  walkText(text, (n) => {
    if (n.kind === "mention") users.add(n.user);
  });
  return [...users];
}

/** Whether a text mentions @everyone (outside code). */
export function mentionsEveryone(text: string): boolean {
  let found = false;
  walkText(text, (n) => {
    if (n.kind === "everyone") found = true;
  });
  return found;
}

export interface MarkdownOptions {
  /** A user's display name; undefined when unknown. */
  nameOf?: (user: Key) => string | undefined;
  /** The local user, whose mentions (and @everyone) stand out. */
  self?: Key;
}

const mentionClass = "rounded px-0.5 font-medium bg-indigo-500/20 text-indigo-700 dark:text-indigo-300";
const selfMentionClass = "rounded px-0.5 font-medium bg-amber-400/30 text-amber-800 dark:text-amber-200";

function renderNodes(nodes: MdNode[], options: MarkdownOptions): ReactNode[] {
  return nodes.map((n, i) => {
    switch (n.kind) {
      case "text":
        return n.text;
      case "break":
        return <br key={i} />;
      case "strong":
        return <strong key={i}>{renderNodes(n.children, options)}</strong>;
      case "em":
        return <em key={i}>{renderNodes(n.children, options)}</em>;
      case "code":
        return (
          <code key={i} className="rounded bg-zinc-200 px-1 py-0.5 font-mono text-[0.875em] dark:bg-zinc-800">
            {n.text}
          </code>
        );
      case "codeblock":
        return (
          <pre
            key={i}
            className="my-1 overflow-x-auto whitespace-pre-wrap rounded border border-zinc-300 bg-zinc-100 p-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
          >
            <code data-lang={n.lang || undefined}>{n.text}</code>
          </pre>
        );
      case "link":
        return (
          <a
            key={i}
            href={n.href}
            target="_blank"
            rel="noopener noreferrer nofollow"
            className="text-sky-600 hover:underline dark:text-sky-400"
          >
            {renderNodes(n.children, options)}
          </a>
        );
      case "mention": {
        const name = options.nameOf?.(n.user) ?? n.user.slice(0, 8);
        return (
          <span key={i} className={n.user === options.self ? selfMentionClass : mentionClass} data-user={n.user}>
            @{name}
          </span>
        );
      }
      case "everyone":
        return (
          <span key={i} className={selfMentionClass}>
            @everyone
          </span>
        );
    }
  });
}

/** Renders a parsed tree as React elements. */
export function renderMarkdown(nodes: MdNode[], options: MarkdownOptions = {}): ReactNode {
  return <>{renderNodes(nodes, options)}</>;
}

/** A message's text, formatted. */
export function Markdown({ text, ...options }: { text: string } & MarkdownOptions) {
  const nodes = useMemo(() => parseMarkdown(text), [text]);
  return renderMarkdown(nodes, options);
}
