import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown, isPlainText, parsed } from "./markdown";

/** A small seeded PRNG (mulberry32): a failure names its seed and replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Words chat text is made of, spaces, and every piece of syntax the fast
// path must leave to the parser; each text mixes words with one piece of syntax,
// so that texts where a loose check would go wrong are common.
const words = "hello world it's 5 10 1. 2) ok? yes! no, maybe; a.b x:y (see) \"quoted\" 100% & é 🙂 example.com".split(" ");
const syntax = [
  ..."\t \n # > - + * _ ~ ~~ | || ` [ ] ( ) ! < > @ \\ = : / www. http:// https:// mailto: @everyone &amp; &lt; a@b.c".split(" "),
  " ", "  ",
];

function sample(rand: () => number): string {
  // One piece of syntax per text, used more than once: most syntax is in pairs.
  const mark = syntax[Math.floor(rand() * syntax.length)] as string;
  const n = 1 + Math.floor(rand() * 8);
  let s = "";
  for (let i = 0; i < n; i++) {
    const piece = rand() < 0.7 ? (words[Math.floor(rand() * words.length)] as string) : mark;
    s += (i > 0 && rand() < 0.5 ? " " : "") + piece;
  }
  return s;
}

describe("plain text skips the parser", () => {
  it("renders exactly as the parser would, for any text it takes", () => {
    let taken = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const text = sample(prng(seed));
      if (!isPlainText(text)) continue;
      taken++;
      expect(renderToStaticMarkup(<Markdown text={text} />), `seed ${seed}: ${JSON.stringify(text)}`).toBe(renderToStaticMarkup(parsed(text)));
    }
    // The generator must exercise the fast path, not just the parser.
    expect(taken).toBeGreaterThan(1000);
  });

  it("takes everyday sentences and leaves anything with syntax to the parser", () => {
    for (const t of ["hello world", "Note: meet at 5.30, ok?", "it's done!", "see (this) & that", "ünïcödé 🙂"]) expect(isPlainText(t), t).toBe(true);
    for (const t of ["", " padded", "trailing ", "*em*", "a_b", "~~x~~", "||secret||", "`code`", "[a](b)", "<@x>", "@everyone", "a@b.c",
      "https://x.y", "www.x.y", "# h", "> q", "- item", "1. item", "two\nlines", "back\\slash"]) expect(isPlainText(t), t).toBe(false);
  });
});
