// @vitest-environment jsdom
import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown, mentionToken, mentionedUsers, parseMarkdown, safeHref, type MarkdownOptions } from "./markdown";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ALICE = "a".repeat(52);
const BOB = "b".repeat(52);
const names: Record<string, string> = { [ALICE]: "Alice" };

const mounted: Array<() => void> = [];
afterEach(() => {
  mounted.splice(0).forEach((unmount) => unmount());
});

/** Renders a message's text into a real DOM and returns its container. */
function render(text: string, options: MarkdownOptions = {}): HTMLElement {
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(<Markdown text={text} nameOf={(k) => names[k]} {...options} />));
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  return container;
}

/** Every element below the container, as tag names. */
const tags = (el: HTMLElement) => [...el.querySelectorAll("*")].map((e) => e.tagName.toLowerCase());

describe("markdown safety", () => {
  it.each([
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b>bold?</b> <a href='javascript:alert(1)'>x</a>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "<style>body{display:none}</style>",
  ])("shows HTML as text: %s", (text) => {
    const el = render(text);
    expect(tags(el)).toEqual([]);
    expect(el.textContent).toBe(text);
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
  ])("makes no link of %s", (text) => {
    const el = render(text);
    expect(el.querySelector("a")).toBeNull();
    expect(el.textContent).toBe(text);
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
    const el = render('https://example.com/"onmouseover="alert(1)');
    const a = el.querySelector("a");
    expect(a?.getAttribute("href")).toBe("https://example.com/");
    expect(a?.getAttribute("onmouseover")).toBeNull();
    expect(el.textContent).toBe('https://example.com/"onmouseover="alert(1)');
  });

  it("shows HTML entities as typed", () => {
    const text = "&lt;b&gt; &amp; &#x3C;script&#x3E; &quot;";
    const el = render(text);
    expect(tags(el)).toEqual([]);
    expect(el.textContent).toBe(text);
    expect(el.innerHTML).toBe("&amp;lt;b&amp;gt; &amp;amp; &amp;#x3C;script&amp;#x3E; &amp;quot;");
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
  it("renders bold, italic and nesting", () => {
    const el = render("**bold *both* bold** and *it **b** it* and _u_ and __s__ and ***x***");
    expect(el.innerHTML).toBe(
      "<strong>bold <em>both</em> bold</strong> and <em>it <strong>b</strong> it</em> and <em>u</em> and <strong>s</strong> and <strong><em>x</em></strong>",
    );
  });

  it("leaves lone and spaced delimiters alone", () => {
    for (const text of ["2 * 3 * 4", "snake_case_name", "a ** b", "*open", "**", "x_y_", "a * b*", "**a **"]) {
      const el = render(text);
      expect(tags(el)).toEqual([]);
      expect(el.textContent).toBe(text);
    }
  });

  it("honours backslash escapes", () => {
    const el = render("\\*not italic\\* \\`not code\\`");
    expect(tags(el)).toEqual([]);
    expect(el.textContent).toBe("*not italic* `not code`");
  });

  it("keeps code spans literal", () => {
    const el = render("run `**not bold** <b> [x](https://a.example) <@" + ALICE + ">` now, ``a ` b``");
    const codes = [...el.querySelectorAll("code")];
    expect(codes.map((c) => c.textContent)).toEqual([
      "**not bold** <b> [x](https://a.example) <@" + ALICE + ">",
      "a ` b",
    ]);
    expect(el.querySelector("strong, a, span")).toBeNull();
  });

  it("keeps code delimiters out of emphasis", () => {
    const el = render("**a `**` b**");
    expect(el.innerHTML).toMatch(/^<strong>a <code[^>]*>\*\*<\/code> b<\/strong>$/);
  });

  it("renders fenced code blocks literally, with their language", () => {
    const el = render("before\n```ts\nconst a = '<b>';\n**x** <@" + ALICE + ">\n```\nafter");
    const pre = el.querySelector("pre");
    expect(pre?.querySelector("code")?.getAttribute("data-lang")).toBe("ts");
    expect(pre?.textContent).toBe("const a = '<b>';\n**x** <@" + ALICE + ">");
    expect(el.querySelector("strong, span, br")).toBeNull();
    expect(el.textContent).toBe("before" + pre?.textContent + "after");
  });

  it("treats an unclosed fence as text", () => {
    const el = render("```not closed");
    expect(tags(el)).toEqual([]);
    expect(el.textContent).toBe("```not closed");
  });

  it("renders line breaks", () => {
    const el = render("one\ntwo\n\nthree");
    expect(el.innerHTML).toBe("one<br>two<br><br>three");
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

  it("does not take lookalikes for mentions", () => {
    const el = render("<@notakey> mail@everyone.example @everyoneelse");
    expect(el.querySelector("span")).toBeNull();
  });

  it("lists the users a text mentions, outside code", () => {
    expect(mentionedUsers(`**${mentionToken(BOB)}** ${mentionToken(ALICE)} \`${mentionToken(ALICE)}\` ${mentionToken(BOB)}`)).toEqual([
      BOB,
      ALICE,
    ]);
    expect(mentionedUsers("```\n" + mentionToken(ALICE) + "\n```")).toEqual([]);
  });
});

describe("parseMarkdown", () => {
  it("makes a tree", () => {
    expect(parseMarkdown("a **b** `c`\n[d](https://e.example)")).toEqual([
      { kind: "text", text: "a " },
      { kind: "strong", children: [{ kind: "text", text: "b" }] },
      { kind: "text", text: " " },
      { kind: "code", text: "c" },
      { kind: "break" },
      { kind: "link", href: "https://e.example/", children: [{ kind: "text", text: "d" }] },
    ]);
  });

  it("stays fast on pathological input", () => {
    const texts = ["*a".repeat(2000), "_a ".repeat(1300), "[".repeat(4000), "**".repeat(2000), "`".repeat(4000), "*".repeat(4000)];
    const start = performance.now();
    for (const t of texts) {
      const nodes = parseMarkdown(t);
      expect(nodes.length).toBeGreaterThan(0);
    }
    // Generous: a regression to exponential time would take minutes.
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it("nests emphasis, up to a limit", () => {
    let text = "x";
    for (let level = 29; level >= 0; level--) {
      const d = level % 2 ? "**" : "*";
      text = `${d}a ${text} a${d}`;
    }
    let depth = 0;
    let nodes = parseMarkdown(text);
    for (;;) {
      const inner = nodes.find((n) => n.kind === "em" || n.kind === "strong");
      if (inner?.kind !== "em" && inner?.kind !== "strong") break;
      expect(inner.kind).toBe(depth % 2 ? "strong" : "em");
      depth++;
      nodes = inner.children;
    }
    expect(depth).toBe(8);
  });
});
