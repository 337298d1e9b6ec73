// Message formatting: CommonMark plus GitHub's extensions, parsed by
// react-markdown (remark) and rendered as React elements, with chat rules
// on top. Nothing in a message ever becomes HTML: the HTML, entity,
// definition, indented-code and setext-heading syntaxes are switched off
// in the parser, so what they would have made shows as typed; links are
// made only for http, https and mailto URLs, any other link shows as
// typed; an image shows as a link to it, so no message makes the app fetch
// anything.
//
// On top of Markdown: a single line break is a break (as in Discord);
// ||spoilers||; mentions written <@user-key> and <@&role-id>, shown by
// name; @everyone. Mentions and spoilers are tree transforms over text, so
// code keeps them literal and a backslash escapes them. Code blocks with a
// language are highlighted once highlight.js, a chunk of its own, has
// loaded (./highlight).
//
// Parsing is superlinear on some pathological inputs, so a message whose
// lines nest containers absurdly deep is shown as plain text, inline
// formatting deeper than maxInlineDepth shows as typed, and rendered
// messages are cached by text: a virtualized list remounts rows often.

import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type ReactElement,
  type ReactNode,
} from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import { unified, type PluggableList, type Processor } from "unified";
import type { Element as HastElement, ElementContent, Root as HastRoot } from "hast";
import type { Node, Parent, PhrasingContent, Root, RootContent, Text } from "mdast";
import type { CompileContext, Token } from "mdast-util-from-markdown";
import type { VFile } from "vfile";
import type { ID, Key } from "@/api/types";

/** ||text||: hidden until clicked. */
interface Spoiler extends Parent {
  type: "spoiler";
  children: PhrasingContent[];
}
/** <@user-key>. */
interface UserMention extends Node {
  type: "userMention";
  user: Key;
}
/** <@&role-id>. */
interface RoleMention extends Node {
  type: "roleMention";
  role: ID;
}
/** @everyone. */
interface Everyone extends Node {
  type: "everyone";
}

declare module "mdast" {
  interface TextData {
    /** Where in the value a backslash-escaped character stands: it takes part in no chat syntax. */
    escaped?: number[];
  }
  interface PhrasingContentMap {
    spoiler: Spoiler;
    userMention: UserMention;
    roleMention: RoleMention;
    everyone: Everyone;
  }
  interface RootContentMap {
    spoiler: Spoiler;
    userMention: UserMention;
    roleMention: RoleMention;
    everyone: Everyone;
  }
}

/** How a mention of user is written in a message's text. */
export function mentionToken(user: Key): string {
  return `<@${user}>`;
}

/** How a mention of a role is written in a message's text. */
export function roleMentionToken(role: ID): string {
  return `<@&${role}>`;
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

// Parser constructs chat has no use for. Raw HTML and character references
// (&lt;) must show as typed; link definitions and footnotes make text
// vanish from where it was written (and footnotes make element ids);
// indented code and setext headings ("text" over "---") surprise people
// who never meant Markdown.
const disabledConstructs = [
  "htmlFlow",
  "htmlText",
  "characterReference",
  "definition",
  "gfmFootnoteDefinition",
  "gfmFootnoteCall",
  "gfmPotentialFootnoteCall",
  "codeIndented",
  "setextUnderline",
];

// Container markers (> - * + 1.) a line may open; more and the message is
// plain text, as parsing deep nesting takes seconds.
const maxNesting = 16;
// Emphasis, links and spoilers nested deeper than this show as typed.
const maxInlineDepth = 8;

const containerMarker = /[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$))/y;
const thematicBreak = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

function tooDeep(doc: string): boolean {
  for (const line of doc.split(/\r\n?|\n/)) {
    containerMarker.lastIndex = 0;
    let depth = 0;
    while (containerMarker.test(line)) if (++depth > maxNesting && !thematicBreak.test(line)) return true;
  }
  return false;
}

/** The tree of a text that is one plain paragraph. */
function plainTree(doc: string): Root {
  const lines = doc.split(/\r\n?|\n/);
  const position = {
    start: { line: 1, column: 1, offset: 0 },
    end: { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1, offset: doc.length },
  };
  return { type: "root", position, children: [{ type: "paragraph", position, children: [{ type: "text", value: doc, position }] }] };
}

/** Records where escaped characters land in text (mdast-util-from-markdown's own handler, plus the record). */
function exitEscapeValue(this: CompileContext, token: Token): undefined {
  const tail = this.stack.pop() as Text;
  ((tail.data ??= {}).escaped ??= []).push(tail.value.length);
  tail.value += this.sliceSerialize(token);
  if (tail.position) tail.position.end = { line: token.end.line, column: token.end.column, offset: token.end.offset };
}

/** The parser, for chat: constructs off, escapes recorded, absurd nesting refused. */
function chatSyntax(this: Processor) {
  const data = this.data();
  (data.micromarkExtensions ??= []).push({ disable: { null: disabledConstructs } });
  (data.fromMarkdownExtensions ??= []).push({ exit: { characterEscapeValue: exitEscapeValue } });
  const parse = this.parser;
  if (parse) this.parser = (doc, file) => (tooDeep(doc) ? plainTree(doc) : parse(doc, file));
}

const sourceOf = (node: Node, source: string): string | undefined => {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? undefined : source.slice(start, end);
};

const text = (value: string): Text => ({ type: "text", value });

/** Whether a fenced code block has its closing fence (CommonMark runs an unclosed one to the end). */
function closedFence(source: string): boolean {
  const lines = source.split(/\r\n?|\n/);
  const open = /^[ \t]*(`{3,}|~{3,})/.exec(lines[0] ?? "")?.[1];
  if (!open || lines.length < 2) return false;
  const close = /^[ \t>]*(`{3,}|~{3,})[ \t]*$/.exec(lines[lines.length - 1] ?? "")?.[1];
  return close !== undefined && close[0] === open[0] && close.length >= open.length;
}

const inlineContainers = new Set(["emphasis", "strong", "delete", "link"]);

/**
 * What node becomes, given the inline nesting around it: an unclosed fence
 * shows as typed, an image as a link, a link to an unsafe URL as typed
 * (its text still formatted), too-deep emphasis as typed.
 */
function tidyNode(node: RootContent, source: string, depth: number): RootContent[] {
  const typed = sourceOf(node, source);
  if (node.type === "code") {
    return typed !== undefined && !closedFence(typed) ? [{ type: "paragraph", children: [text(typed)], position: node.position }] : [node];
  }
  if (node.type === "image") {
    const { url, title, alt, position } = node;
    node = { type: "link", url, title, position, children: [text(alt || url)] };
  }
  if (inlineContainers.has(node.type) && depth >= maxInlineDepth && typed !== undefined) return [text(typed)];
  if (node.type === "link") {
    tidy(node, source, depth + 1);
    if (safeHref(node.url) === null) {
      const first = node.children[0]?.position?.start.offset;
      const last = node.children[node.children.length - 1]?.position?.end.offset;
      const start = node.position?.start.offset;
      const end = node.position?.end.offset;
      if (first === undefined || last === undefined || start === undefined || end === undefined) return typed === undefined ? [] : [text(typed)];
      return [text(source.slice(start, first)), ...node.children, text(source.slice(last, end))];
    }
    if (node.children.length === 0) node.children = [text(node.url)];
    return [node];
  }
  if ("children" in node) tidy(node, source, inlineContainers.has(node.type) ? depth + 1 : depth);
  return [node];
}

function tidy(parent: Parent, source: string, depth: number): void {
  parent.children = parent.children.flatMap((child) => tidyNode(child, source, depth));
}

/** A piece of a text node, with its escape record. */
function slice(node: Text, from: number, to = node.value.length): Text {
  const piece = text(node.value.slice(from, to));
  const escaped = node.data?.escaped?.filter((i) => i >= from && i < to).map((i) => i - from);
  if (escaped?.length) piece.data = { escaped };
  return piece;
}

const isEscaped = (node: Text, i: number) => node.data?.escaped?.includes(i) ?? false;

/** The children with the text between pairs of || (in these children, not nested ones) made spoilers. */
function spoilerize(children: PhrasingContent[]): PhrasingContent[] {
  const marks: Array<{ child: number; at: number }> = [];
  children.forEach((c, child) => {
    if (c.type !== "text") return;
    for (let at = c.value.indexOf("||"); at >= 0; at = c.value.indexOf("||", at + 1)) {
      if (isEscaped(c, at) || isEscaped(c, at + 1)) continue;
      marks.push({ child, at });
      at++;
    }
  });
  // Pairs in order; an empty pair (||||) stays as typed.
  const bounds = new Map<number, Array<{ at: number; open: boolean }>>();
  for (let k = 0; k + 1 < marks.length; k += 2) {
    const [open, close] = [marks[k]!, marks[k + 1]!];
    if (open.child === close.child && close.at === open.at + 2) continue;
    for (const [m, isOpen] of [[open, true], [close, false]] as const) {
      const list = bounds.get(m.child) ?? [];
      list.push({ at: m.at, open: isOpen });
      bounds.set(m.child, list);
    }
  }
  if (bounds.size === 0) return children;
  const out: PhrasingContent[] = [];
  let target = out;
  children.forEach((c, i) => {
    const list = bounds.get(i);
    if (c.type !== "text" || !list) {
      target.push(c);
      return;
    }
    let from = 0;
    for (const b of list) {
      if (b.at > from) target.push(slice(c, from, b.at));
      if (b.open) {
        const spoiler: Spoiler = { type: "spoiler", children: [], data: { hName: "span", hProperties: { dataSpoiler: "true" } } };
        out.push(spoiler);
        target = spoiler.children;
      } else {
        target = out;
      }
      from = b.at + 2;
    }
    if (from < c.value.length) target.push(slice(c, from));
  });
  return out;
}

const tokenPattern = /<@([a-z2-7]{52})>|<@&(b[a-z2-7]+)>|@everyone/g;
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** A text node as text, mentions and line breaks. */
function inlineTokens(node: Text): PhrasingContent[] {
  const pieces: PhrasingContent[] = [];
  let from = 0;
  for (const m of node.value.matchAll(tokenPattern)) {
    const at = m.index;
    const [token, user, role] = m;
    if (isEscaped(node, at)) continue;
    let mention: PhrasingContent;
    if (user !== undefined) mention = { type: "userMention", user, data: { hName: "span", hProperties: { dataUser: user }, hChildren: [{ type: "text", value: token }] } };
    else if (role !== undefined) mention = { type: "roleMention", role, data: { hName: "span", hProperties: { dataRole: role }, hChildren: [{ type: "text", value: token }] } };
    else if (isWordChar(node.value[at - 1]) || isWordChar(node.value[at + token.length])) continue;
    else mention = { type: "everyone", data: { hName: "span", hProperties: { dataEveryone: "true" }, hChildren: [{ type: "text", value: token }] } };
    if (at > from) pieces.push(slice(node, from, at));
    pieces.push(mention);
    from = at + token.length;
  }
  if (from === 0) pieces.push(node);
  else if (from < node.value.length) pieces.push(slice(node, from));
  return pieces.flatMap((p) => {
    if (p.type !== "text" || !/[\r\n]/.test(p.value)) return [p];
    const lines = p.value.split(/\r\n?|\n/);
    return lines.flatMap((line, i): PhrasingContent[] => [...(i > 0 ? [{ type: "break" as const }] : []), ...(line ? [text(line)] : [])]);
  });
}

const phrasingParents = new Set(["paragraph", "heading", "emphasis", "strong", "delete", "link", "tableCell", "spoiler"]);

function chatInline(parent: Parent): void {
  if (phrasingParents.has(parent.type)) parent.children = spoilerize(parent.children as PhrasingContent[]);
  parent.children = parent.children.flatMap((child): RootContent[] => {
    if (child.type === "text") return inlineTokens(child);
    if ("children" in child) chatInline(child);
    return [child];
  });
}

/** The tree, for chat (see the top of the file). */
function chatTree() {
  return (tree: Root, file: VFile) => {
    tidy(tree, String(file), 0);
    chatInline(tree);
  };
}

/** Drops the line endings remark-rehype puts between elements: the message's container keeps white space. */
function dropLineEndings() {
  const drop = (node: HastRoot | HastElement) => {
    node.children = node.children.filter((c) => !(c.type === "text" && c.value === "\n" && !c.position)) as ElementContent[];
    for (const c of node.children) if (c.type === "element") drop(c);
  };
  return drop;
}

const remarkPlugins: PluggableList = [[remarkGfm, { singleTilde: false }], chatSyntax, chatTree];
const rehypePlugins: PluggableList = [dropLineEndings];

/** The tree alone, for finding mentions. */
const mdast = unified().use(remarkParse).use(remarkPlugins).freeze();

/** Calls visit on every node of a text's tree (code holds no mentions: it has no children). */
function walkText(text: string, visit: (n: RootContent) => void): void {
  const stack: RootContent[] = [...(mdast.runSync(mdast.parse(text), text) as Root).children];
  for (let n = stack.pop(); n; n = stack.pop()) {
    visit(n);
    if ("children" in n) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
}

/** The users a text mentions (outside code), in order of first mention. */
export function mentionedUsers(text: string): Key[] {
  const users = new Set<Key>();
  walkText(text, (n) => {
    if (n.type === "userMention") users.add(n.user);
  });
  return [...users];
}

/** The roles a text mentions (outside code), in order of first mention. */
export function mentionedRoles(text: string): ID[] {
  const roles = new Set<ID>();
  walkText(text, (n) => {
    if (n.type === "roleMention") roles.add(n.role);
  });
  return [...roles];
}

/** Whether a text mentions @everyone (outside code). */
export function mentionsEveryone(text: string): boolean {
  let found = false;
  walkText(text, (n) => {
    if (n.type === "everyone") found = true;
  });
  return found;
}

export interface MarkdownOptions {
  /** A user's display name; undefined when unknown. */
  nameOf?: (user: Key) => string | undefined;
  /** The local user, whose mentions (and @everyone) stand out. */
  self?: Key;
  /** A role's name and colour (0xRRGGBB, 0 for none); undefined when unknown, and its mentions show as typed. */
  roleOf?: (role: ID) => { name: string; color: number } | undefined;
}

// The rendered tree is cached by text, so mention names come from context:
// a new nameOf re-renders the mentions, not the message.
const OptionsContext = createContext<MarkdownOptions>({});

// Dark mode's --primary is under 4.5:1 on its tint, hence foreground text there.
const mentionClass = "rounded px-0.5 font-medium bg-primary/15 text-primary dark:text-foreground";
const selfMentionClass = "rounded px-0.5 font-medium bg-mention text-mention-foreground";

function UserMentionView({ user }: { user: Key }) {
  const { nameOf, self } = useContext(OptionsContext);
  return (
    <span className={user === self ? selfMentionClass : mentionClass} data-user={user}>
      @{nameOf?.(user) ?? user.slice(0, 8)}
    </span>
  );
}

function RoleMentionView({ role }: { role: ID }) {
  const found = useContext(OptionsContext).roleOf?.(role);
  if (!found) return <>{roleMentionToken(role)}</>;
  const rgb = found.color & 0xffffff;
  const hex = `#${rgb.toString(16).padStart(6, "0")}`;
  const style: CSSProperties | undefined = rgb ? { color: hex, backgroundColor: `${hex}26` } : undefined;
  return (
    <span className={rgb ? "rounded px-0.5 font-medium" : mentionClass} style={style} data-role={role}>
      @{found.name}
    </span>
  );
}

function SpoilerView({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState(false);
  if (shown) {
    return (
      <span data-testid="spoiler" className="rounded bg-muted px-0.5">
        {children}
      </span>
    );
  }
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "Enter" && e.key !== " ") return;
    e.preventDefault();
    setShown(true);
  };
  // The content keeps its place but is invisible, so it is neither read nor clickable until shown.
  return (
    <span
      data-testid="spoiler"
      role="button"
      tabIndex={0}
      aria-label="Spoiler, press to reveal"
      onClick={() => setShown(true)}
      onKeyDown={onKeyDown}
      className="cursor-pointer rounded bg-foreground px-0.5 focus-visible:outline focus-visible:outline-2 focus-visible:outline-ring"
    >
      <span className="invisible">{children}</span>
    </span>
  );
}

type Highlight = (code: string, lang: string) => string | null;
let highlighter: Highlight | undefined;
let loading: Promise<Highlight> | undefined;

/** Loads the code highlighter (once; again after a failure) and resolves when code blocks can use it. */
export function loadHighlighter(): Promise<Highlight> {
  loading ??= import("./highlight").then(
    (m) => (highlighter = m.highlight),
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** A fenced code block: plain text at once, highlighted when the highlighter is loaded and knows the language. */
function CodeBlock({ code, lang }: { code: string; lang: string }) {
  const [ready, setReady] = useState(highlighter !== undefined);
  useEffect(() => {
    if (ready || !lang) return;
    let live = true;
    loadHighlighter().then(
      () => live && setReady(true),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [ready, lang]);
  // highlight returns only highlight.js's span markup around text it escaped (see ./highlight).
  const html = useMemo(() => (ready && lang && highlighter ? highlighter(code, lang) : null), [ready, code, lang]);
  return (
    <pre className={`${block} overflow-x-auto rounded bg-muted p-2 font-mono text-xs`}>
      {html === null ? (
        <code data-lang={lang || undefined}>{code}</code>
      ) : (
        <code data-lang={lang} className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
      )}
    </pre>
  );
}

/** The code and language of a <pre><code class="language-x">. */
function codeOf(pre: HastElement | undefined): { code: string; lang: string } {
  const code = pre?.children.find((c): c is HastElement => c.type === "element" && c.tagName === "code");
  const classes = code?.properties.className;
  const first = Array.isArray(classes) ? String(classes[0] ?? "") : "";
  return {
    lang: first.startsWith("language-") ? first.slice("language-".length) : "",
    code: (code?.children ?? [])
      .map((c) => (c.type === "text" ? c.value : ""))
      .join("")
      .replace(/\n$/, ""),
  };
}

// Blocks stack with a small gap; a one-line message is a bare paragraph.
const block = "mt-1.5 first:mt-0";
const cell = "border border-border px-2 py-0.5";

const components: Components = {
  p: ({ children }) => <p className={block}>{children}</p>,
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow" className="text-primary hover:underline">
        {children}
      </a>
    ) : (
      <>{children}</>
    ),
  code: ({ children }) => <code className="rounded bg-muted px-1 font-mono text-[0.85em]">{children}</code>,
  pre: ({ node }) => <CodeBlock {...codeOf(node)} />,
  span: ({ node, children }) => {
    const p = node?.properties ?? {};
    if (typeof p.dataUser === "string") return <UserMentionView user={p.dataUser} />;
    if (typeof p.dataRole === "string") return <RoleMentionView role={p.dataRole} />;
    if (p.dataEveryone !== undefined) return <span className={selfMentionClass}>@everyone</span>;
    if (p.dataSpoiler !== undefined) return <SpoilerView>{children}</SpoilerView>;
    return <span>{children}</span>;
  },
  blockquote: ({ children }) => <blockquote className={`${block} border-l-4 border-border pl-3`}>{children}</blockquote>,
  ul: ({ children }) => <ul className={`${block} list-disc pl-5 [li>&]:mt-0`}>{children}</ul>,
  ol: ({ start, children }) => (
    <ol start={start} className={`${block} list-decimal pl-5 [li>&]:mt-0`}>
      {children}
    </ol>
  ),
  input: ({ type, checked }) => <input type={type} checked={checked} disabled readOnly className="mr-1 align-middle" />,
  h1: ({ children }) => <h1 className={`${block} text-lg font-bold`}>{children}</h1>,
  h2: ({ children }) => <h2 className={`${block} text-base font-bold`}>{children}</h2>,
  h3: ({ children }) => <h3 className={`${block} font-semibold`}>{children}</h3>,
  h4: ({ children }) => <h4 className={`${block} text-sm font-semibold`}>{children}</h4>,
  h5: ({ children }) => <h5 className={`${block} text-sm font-semibold`}>{children}</h5>,
  h6: ({ children }) => <h6 className={`${block} text-sm font-semibold`}>{children}</h6>,
  hr: () => <hr className="my-2 border-border" />,
  table: ({ children }) => (
    <div className={`${block} overflow-x-auto`}>
      <table className="border-collapse text-sm">{children}</table>
    </div>
  ),
  th: ({ style, children }) => (
    <th style={style} className={`${cell} text-left font-semibold`}>
      {children}
    </th>
  ),
  td: ({ style, children }) => (
    <td style={style} className={cell}>
      {children}
    </td>
  ),
};

// What the plugins above can produce; anything else would be dropped, its content kept.
const allowedElements = [
  ..."a blockquote br code del em hr input li ol p pre span strong table tbody td th thead tr ul".split(" "),
  ..."h1 h2 h3 h4 h5 h6".split(" "),
];

const urlTransform = (url: string) => safeHref(url);

// Rendered messages, most recently used last.
const cache = new Map<string, ReactElement>();
const cacheSize = 500;

/** A text rendered by the parser, with no fast path (what plain text must match). */
export function parsed(text: string): ReactElement {
  return ReactMarkdown({ children: text, remarkPlugins, rehypePlugins, components, allowedElements, unwrapDisallowed: true, urlTransform });
}

// Text no Markdown or chat syntax can touch: none of the characters that
// start inline syntax (escapes, emphasis, strike, links, autolinks, code,
// mentions, emails), none that start a block at its start (headings,
// quotes, lists, fences), no line break, no white space the parser would
// trim, no spoiler and no URL or www. the parser would link.
const plainChars = /^(?![\s#>+\-*=\d])[^\\*_~[\]<>`@\r\n]*(?<!\s)$/;
const linkLike = /\|\||:\/\/|www\./i;

/**
 * Whether text renders as one plain paragraph of itself. Most chat
 * messages do, and parsing them was nearly half of rendering a page of
 * rows while scrolling back (docs/benchmarks.md), so they skip the parser.
 */
export function isPlainText(text: string): boolean {
  return text.length > 0 && plainChars.test(text) && !linkLike.test(text);
}

function rendered(text: string): ReactElement {
  let element = cache.get(text);
  if (element) {
    cache.delete(text);
  } else {
    element = isPlainText(text) ? <p className={block}>{text}</p> : parsed(text);
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
  }
  cache.set(text, element);
  return element;
}

/** A message's text (or a channel topic), formatted. */
export function Markdown({ text, nameOf, self, roleOf }: { text: string } & MarkdownOptions) {
  const options = useMemo(() => ({ nameOf, self, roleOf }), [nameOf, self, roleOf]);
  const body = useMemo(() => rendered(text), [text]);
  return <OptionsContext.Provider value={options}>{body}</OptionsContext.Provider>;
}
