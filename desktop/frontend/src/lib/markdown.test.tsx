// @vitest-environment jsdom
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import {
  Markdown,
  loadHighlighter,
  mentionToken,
  mentionedRoles,
  mentionedUsers,
  mentionsEveryone,
  roleMentionToken,
  safeHref,
  type MarkdownOptions,
} from "./markdown";
import { highlight } from "./highlight";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ALICE = "a".repeat(52);
const BOB = "b".repeat(52);
const names: Record<string, string> = { [ALICE]: "Alice" };
const MODS = "bafyreimods";
const CREW = "bafyreicrew";
const PLAIN = "bafyreiplain";
const roles: Record<string, { name: string; color: number }> = {
  [MODS]: { name: "Mods", color: 0x3366ff },
  [PLAIN]: { name: "Plain", color: 0 },
};

const mounted: Array<() => void> = [];
afterEach(() => {
  mounted.splice(0).forEach((unmount) => unmount());
});

const roots = new WeakMap<HTMLElement, Root>();

/** Renders a message's text into a real DOM and returns its container. */
function render(text: string, options: MarkdownOptions = {}): HTMLElement {
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  roots.set(container, root);
  act(() => root.render(<Markdown text={text} nameOf={(k) => names[k]} roleOf={(id) => roles[id]} {...options} />));
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  return container;
}

/** The one paragraph a one-line message renders as. */
function para(el: HTMLElement): HTMLElement {
  expect([...el.children].map((c) => c.tagName.toLowerCase())).toEqual(["p"]);
  return el.firstElementChild as HTMLElement;
}

/** Every element below the container, as tag names. */
const tags = (el: HTMLElement) => [...el.querySelectorAll("*")].map((e) => e.tagName.toLowerCase());

/** The markup without class attributes (styling is not what these tests check). */
const html = (el: HTMLElement) => el.innerHTML.replace(/ class="[^"]*"/g, "");

const link = ' target="_blank" rel="noopener noreferrer nofollow"';

describe("markdown safety", () => {
  it.each([
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b>bold?</b> <a href='javascript:alert(1)'>x</a>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<style>body{display:none}</style>",
    "<div>\n*x*\n</div>",
  ])("shows HTML as text: %s", (text) => {
    const el = render(text);
    expect(tags(el).filter((t) => t !== "em" && t !== "br")).toEqual(["p"]);
    expect(el.textContent).toBe(text.replace(/\n|\*/g, ""));
  });

  it.each([
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](javascript&colon;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "[click](vbscript:msgbox)",
    "[click](file:///etc/passwd)",
    "[click](/relative/path)",
    "[click](//evil.example/x)",
    "javascript:alert(1)",
    "[click](java\tscript:alert(1))",
    "<javascript:alert(1)>",
    "[x][y]\n\n[y]: javascript:alert(1)",
  ])("makes no link of %s", (text) => {
    const el = render(text);
    expect(el.querySelector("a")).toBeNull();
    expect(el.textContent).toBe(text.replace("\n\n", ""));
  });

  it("links only to http, https and mailto", () => {
    const el = render(
      "[a](https://example.com/x?y=1) [b](http://example.org) [c](mailto:bob@example.com) https://auto.example/p and <https://x.example>",
    );
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["a", "https://example.com/x?y=1"],
      ["b", "http://example.org/"],
      ["c", "mailto:bob@example.com"],
      ["https://auto.example/p", "https://auto.example/p"],
      ["https://x.example", "https://x.example/"],
    ]);
    for (const a of links) {
      expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
      expect(a.getAttribute("target")).toBe("_blank");
    }
  });

  it("keeps an attribute-breaking URL inside its href", () => {
    // GFM takes the quotes into the URL (up to white space); they stay percent-encoded in the href.
    const el = render('https://example.com/"onmouseover="alert(1)');
    const a = el.querySelector("a");
    expect(a?.getAttribute("href")).toBe("https://example.com/%22onmouseover=%22alert(1)");
    expect([...(a?.attributes ?? [])].map((x) => x.name).sort()).toEqual(["class", "href", "rel", "target"]);
    expect(el.textContent).toBe('https://example.com/"onmouseover="alert(1)');
  });

  it("shows HTML entities as typed", () => {
    const text = "&lt;b&gt; &amp; &#x3C;script&#x3E; &quot;";
    const p = para(render(text));
    expect(tags(p)).toEqual([]);
    expect(p.textContent).toBe(text);
    expect(p.innerHTML).toBe("&amp;lt;b&amp;gt; &amp;amp; &amp;#x3C;script&amp;#x3E; &amp;quot;");
  });

  it("never loads an image: an image is a link to it", () => {
    const el = render("![x](https://example.com/a.png) ![](https://example.com/b.png) ![y](javascript:alert(1))");
    expect(el.querySelector("img")).toBeNull();
    expect([...el.querySelectorAll("a")].map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["x", "https://example.com/a.png"],
      ["https://example.com/b.png", "https://example.com/b.png"],
    ]);
    expect(el.textContent).toContain("![y](javascript:alert(1))");
  });

  it("accepts only absolute http(s) and mailto hrefs", () => {
    expect(safeHref("https://example.com")).toBe("https://example.com/");
    expect(safeHref("MAILTO:a@b.c")).toBe("mailto:a@b.c");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("\u0001javascript:alert(1)")).toBeNull();
    expect(safeHref("example.com")).toBeNull();
  });
});

describe("markdown formatting", () => {
  it("renders a one-line message as one paragraph", () => {
    const el = render("a **b** `c`\n[d](https://e.example)");
    expect(html(el)).toBe(`<p>a <strong>b</strong> <code>c</code><br><a href="https://e.example/"${link}>d</a></p>`);
  });

  it("renders bold, italic and nesting", () => {
    const p = para(render("**bold *both* bold** and *it **b** it* and _u_ and __s__ and ***x***"));
    // CommonMark puts ***x*** as em around strong.
    expect(p.innerHTML).toBe(
      "<strong>bold <em>both</em> bold</strong> and <em>it <strong>b</strong> it</em> and <em>u</em> and <strong>s</strong> and <em><strong>x</strong></em>",
    );
  });

  it("leaves lone and spaced delimiters alone", () => {
    for (const text of ["2 * 3 * 4", "snake_case_name", "a ** b", "*open", "**", "x_y_", "a * b*", "**a **", "a ~ b ~ c", "~one~"]) {
      const p = para(render(text));
      expect(tags(p)).toEqual([]);
      expect(p.textContent).toBe(text);
    }
  });

  it("honours backslash escapes", () => {
    const p = para(render("\\*not italic\\* \\`not code\\` \\||not spoiler\\|| \\@everyone \\" + mentionToken(ALICE)));
    expect(tags(p)).toEqual([]);
    expect(p.textContent).toBe("*not italic* `not code` ||not spoiler|| @everyone " + mentionToken(ALICE));
  });

  it("keeps code spans literal", () => {
    const el = render("run `**not bold** <b> [x](https://a.example) <@" + ALICE + "> ||s|| @everyone` now, ``a ` b``");
    const codes = [...el.querySelectorAll("code")];
    expect(codes.map((c) => c.textContent)).toEqual([
      "**not bold** <b> [x](https://a.example) <@" + ALICE + "> ||s|| @everyone",
      "a ` b",
    ]);
    expect(el.querySelector("strong, a, span")).toBeNull();
  });

  it("keeps code delimiters out of emphasis", () => {
    const p = para(render("**a `**` b**"));
    expect(p.innerHTML).toMatch(/^<strong>a <code[^>]*>\*\*<\/code> b<\/strong>$/);
  });

  it("renders fenced code blocks literally, with their language", () => {
    const el = render("before\n```ts\nconst a = '<b>';\n**x** <@" + ALICE + ">\n```\nafter");
    const pre = el.querySelector("pre");
    expect(pre?.querySelector("code")?.getAttribute("data-lang")).toBe("ts");
    expect(pre?.textContent).toBe("const a = '<b>';\n**x** <@" + ALICE + ">");
    expect(el.querySelector("strong, br, [data-user]")).toBeNull();
    // The text around a block is paragraphs of its own.
    expect([...el.children].map((c) => c.tagName.toLowerCase())).toEqual(["p", "pre", "p"]);
    expect(el.textContent).toBe("before" + pre?.textContent + "after");
  });

  it("treats an unclosed fence as text", () => {
    for (const text of ["```not closed", "```js\nlet a;\n``"]) {
      const el = render(text);
      expect(el.querySelector("pre, code")).toBeNull();
      expect(el.textContent).toBe(text.replace(/\n/g, ""));
    }
  });

  it("renders line breaks", () => {
    // A single newline is a break (chat, not CommonMark); a blank line starts a paragraph.
    expect(html(render("one\ntwo\n\nthree"))).toBe("<p>one<br>two</p><p>three</p>");
  });

  it("does not nest links, and trims sentence punctuation from bare URLs", () => {
    const el = render("[see https://inner.example](https://outer.example). Go to https://example.com/a_(b). Or (https://x.example/y).");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://outer.example/",
      "https://example.com/a_(b)",
      "https://x.example/y",
    ]);
    expect(links[0]?.textContent).toBe("see https://inner.example");
    expect(el.textContent).toBe("see https://inner.example. Go to https://example.com/a_(b). Or (https://x.example/y).");
  });

  it("strikes through with two tildes", () => {
    expect(para(render("~~gone~~ and ~~**both**~~")).innerHTML).toBe("<del>gone</del> and <del><strong>both</strong></del>");
  });

  it("renders bullet and numbered lists, nested", () => {
    const el = render("- a\n- b **c**\n  - d\n\n3. x\n4. y");
    expect(html(el)).toBe('<ul><li>a</li><li>b <strong>c</strong><ul><li>d</li></ul></li></ul><ol start="3"><li>x</li><li>y</li></ol>');
  });

  it("renders block quotes, with the text after them outside", () => {
    const el = render("> quoted\n> more *here*\n\nreply");
    expect(html(el)).toBe("<blockquote><p>quoted<br>more <em>here</em></p></blockquote><p>reply</p>");
  });

  it("renders headings as small headings", () => {
    const el = render("# Big\n### small\ntext");
    expect(html(el)).toBe("<h1>Big</h1><h3>small</h3><p>text</p>");
    expect(el.querySelector("h1")?.className).toContain("text-lg");
  });

  it("renders tables", () => {
    const el = render("| a | b |\n|---|--:|\n| 1 | **2** |");
    expect([...el.querySelectorAll("th, td")].map((c) => c.innerHTML)).toEqual(["a", "b", "1", "<strong>2</strong>"]);
    expect(el.querySelectorAll("td")[1]?.getAttribute("style")).toBe("text-align: right;");
  });

  it("shows link definitions and footnotes as typed", () => {
    const el = render("[x][y] and x[^1]\n\n[y]: https://a.example\n\n[^1]: note");
    expect(el.querySelector("section, sup, [id]")).toBeNull();
    expect(el.textContent).toBe("[x][y] and x[^1][y]: https://a.example[^1]: note");
  });
});

describe("spoilers", () => {
  it("hides the text between || pairs until clicked", () => {
    const el = render("the killer is ||the **butler**|| and ||she|| did it ||");
    const spoilers = [...el.querySelectorAll<HTMLElement>("[data-testid=spoiler]")];
    expect(spoilers.map((s) => s.textContent)).toEqual(["the butler", "she"]);
    for (const s of spoilers) {
      expect([s.getAttribute("role"), s.getAttribute("tabindex"), s.getAttribute("aria-label")]).toEqual(["button", "0", "Spoiler, press to reveal"]);
      expect(s.querySelector(".invisible")?.textContent).toBe(s.textContent);
    }
    expect(spoilers[0]?.querySelector("strong")?.textContent).toBe("butler");
    expect(el.textContent).toBe("the killer is the butler and she did it ||");
    act(() => spoilers[0]?.click());
    const [shown, hidden] = [...el.querySelectorAll<HTMLElement>("[data-testid=spoiler]")];
    expect(shown?.getAttribute("role")).toBeNull();
    expect(shown?.getAttribute("aria-label")).toBeNull();
    expect(shown?.querySelector(".invisible")).toBeNull();
    expect(shown?.textContent).toBe("the butler");
    expect(hidden?.getAttribute("role")).toBe("button");
  });

  it("reveals from the keyboard", () => {
    const el = render("||secret||");
    const s = el.querySelector<HTMLElement>("[data-testid=spoiler]");
    s?.focus();
    expect(document.activeElement).toBe(s);
    act(() => {
      s?.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true }));
    });
    expect(el.querySelector("[data-testid=spoiler]")?.getAttribute("role")).toBe("button");
    act(() => {
      s?.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    });
    expect(el.querySelector("[data-testid=spoiler]")?.getAttribute("role")).toBeNull();
  });

  it("makes no spoiler of empty pairs, or of pipes in code", () => {
    const el = render("|||| and `||x||`\n```\n||y||\n```");
    expect(el.querySelector("[data-testid=spoiler]")).toBeNull();
  });
});

describe("mentions", () => {
  it("shows mentioned users by name and highlights the local user", () => {
    const el = render(`hi ${mentionToken(ALICE)} and ${mentionToken(BOB)}, @everyone!`, { self: ALICE });
    const spans = [...el.querySelectorAll("span")];
    expect(spans.map((s) => s.textContent)).toEqual(["@Alice", "@bbbbbbbb", "@everyone"]);
    expect(spans[0]?.getAttribute("data-user")).toBe(ALICE);
    expect(spans[0]?.className).not.toBe(spans[1]?.className);
    expect(el.textContent).toBe("hi @Alice and @bbbbbbbb, @everyone!");
  });

  it("renames mentions when the names change", () => {
    const el = render(mentionToken(ALICE));
    expect(el.textContent).toBe("@Alice");
    act(() => roots.get(el)?.render(<Markdown text={mentionToken(ALICE)} nameOf={() => "Alicia"} />));
    expect(el.textContent).toBe("@Alicia");
  });

  it("does not take lookalikes for mentions", () => {
    const el = render("<@notakey> mail@everyone.example @everyoneelse <@&notacid> <@&>");
    expect(el.querySelector("span")).toBeNull();
    expect(mentionsEveryone("mail@everyone.example @everyoneelse")).toBe(false);
  });

  it("keeps mentions in code literal", () => {
    const text = `\`${mentionToken(ALICE)} ${roleMentionToken(MODS)} @everyone\`\n\`\`\`\n${mentionToken(BOB)} @everyone\n\`\`\``;
    const el = render(text);
    expect(el.querySelector("span")).toBeNull();
    expect([...el.querySelectorAll("code")].map((c) => c.textContent)).toEqual([
      `${mentionToken(ALICE)} ${roleMentionToken(MODS)} @everyone`,
      `${mentionToken(BOB)} @everyone`,
    ]);
    expect([mentionedUsers(text), mentionedRoles(text), mentionsEveryone(text)]).toEqual([[], [], false]);
  });

  it("lists the users a text mentions, outside code", () => {
    expect(mentionedUsers(`**${mentionToken(BOB)}** ${mentionToken(ALICE)} \`${mentionToken(ALICE)}\` ${mentionToken(BOB)}`)).toEqual([
      BOB,
      ALICE,
    ]);
    expect(mentionedUsers("```\n" + mentionToken(ALICE) + "\n```")).toEqual([]);
    expect(mentionedUsers(`||${mentionToken(ALICE)}|| > ${mentionToken(BOB)}`)).toEqual([ALICE, BOB]);
  });

  it("shows @everyone, and knows when a text has it", () => {
    const el = render("@everyone look, **@everyone**");
    expect([...el.querySelectorAll("span")].map((s) => s.textContent)).toEqual(["@everyone", "@everyone"]);
    expect(mentionsEveryone("hey @everyone!")).toBe(true);
    expect(mentionsEveryone("`@everyone` \\@everyone")).toBe(false);
  });
});

describe("role mentions", () => {
  it("shows roles by name in their colour, the default mention colour for none, and unknown roles as typed", () => {
    const el = render(`${roleMentionToken(MODS)} ${roleMentionToken(PLAIN)} ${roleMentionToken(CREW)} ${mentionToken(BOB)}`);
    const [mods, plain, bob] = [...el.querySelectorAll<HTMLElement>("span")];
    expect([mods?.textContent, mods?.getAttribute("data-role"), mods?.style.color]).toEqual(["@Mods", MODS, "rgb(51, 102, 255)"]);
    expect([plain?.textContent, plain?.getAttribute("style")]).toEqual(["@Plain", null]);
    expect(plain?.className).toBe(bob?.className);
    expect(el.textContent).toBe(`@Mods @Plain ${roleMentionToken(CREW)} @bbbbbbbb`);
  });

  it("lists the roles a text mentions, outside code", () => {
    const text = `${roleMentionToken(CREW)} *${roleMentionToken(MODS)}* \`${roleMentionToken(PLAIN)}\` ${roleMentionToken(CREW)} ${mentionToken(ALICE)}`;
    expect(mentionedRoles(text)).toEqual([CREW, MODS]);
    expect(mentionedUsers(text)).toEqual([ALICE]);
  });
});

describe("code highlighting", () => {
  it.each(["html", "js", "markdown", "nosuchlang", ""])("stays safe in %s", async (lang) => {
    const body = '<img src=x onerror=alert(1)>\n</span><script>alert(1)</script>\n"><svg onload=alert(1)>';
    const el = render("```" + lang + "\n" + body + "\n```");
    await act(async () => {
      await loadHighlighter();
    });
    expect(el.querySelector("img, script, svg")).toBeNull();
    expect(el.querySelector("pre")?.textContent).toBe(body);
    for (const e of el.querySelectorAll("pre code *")) {
      expect(e.tagName).toBe("SPAN");
      expect([...e.attributes].map((a) => a.name)).toEqual(["class"]);
    }
  });

  it("leaves unknown languages plain, without guessing", async () => {
    const el = render("```nosuchlang\nconst x = 1;\n```\n```\nconst y = 2;\n```");
    await act(async () => {
      await loadHighlighter();
    });
    expect(el.querySelector("pre code span")).toBeNull();
    expect(highlight("const x = 1;", "nosuchlang")).toBeNull();
    expect(highlight("const x = 1;", "ts")).toContain('<span class="hljs-keyword">const</span>');
  });
});

describe("pathological input", () => {
  it("stays fast", () => {
    const texts = [
      "*a".repeat(2000),
      "_a ".repeat(1300),
      "[".repeat(4000),
      "**".repeat(2000),
      "`".repeat(4000),
      "*".repeat(10000),
      "[".repeat(2000) + "]".repeat(2000),
      "[a](".repeat(1000),
      ">".repeat(4000) + "x",
      "- ".repeat(2000) + "x",
      "1. ".repeat(1300) + "x",
      "> - ".repeat(1000) + "x",
      "||".repeat(2000),
      `${mentionToken(ALICE)}`.repeat(70),
    ];
    const start = performance.now();
    for (const t of texts) {
      expect(render(t).childNodes.length).toBeGreaterThan(0);
    }
    // Generous: a regression to exponential time would take minutes.
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it("shows absurdly nested containers as plain text", () => {
    const el = render(">".repeat(40) + " *x*");
    expect(html(el)).toBe(`<p>${"&gt;".repeat(40)} *x*</p>`);
    // Sixteen levels still nest, and a long thematic break is one.
    const ok = render("> ".repeat(16) + "x\n\n" + "- ".repeat(30));
    expect(ok.querySelectorAll("blockquote")).toHaveLength(16);
    expect(ok.querySelector("hr")).not.toBeNull();
  });

  it("nests emphasis, up to a limit", () => {
    let text = "x";
    for (let level = 29; level >= 0; level--) {
      const d = level % 2 ? "**" : "*";
      text = `${d}a ${text} a${d}`;
    }
    let depth = 0;
    let node: Element = para(render(text));
    for (;;) {
      const inner = node.querySelector(":scope > em, :scope > strong");
      if (!inner) break;
      expect(inner.tagName).toBe(depth % 2 ? "STRONG" : "EM");
      depth++;
      node = inner;
    }
    expect(depth).toBe(8);
    // What is deeper shows as typed.
    expect(node.textContent).toContain("*a **a *a");
  });
});
