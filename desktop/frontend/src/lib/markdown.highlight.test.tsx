// @vitest-environment jsdom
// Apart from markdown.test.tsx so that the highlighter is surely not loaded
// when this file starts (vitest gives each file its own modules).
import { act } from "react";
import { createRoot } from "react-dom/client";
import { expect, it } from "vitest";
import { Markdown, loadHighlighter } from "./markdown";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

it("loads the highlighter lazily: plain code first, then highlighted", async () => {
  const el = document.createElement("div");
  const root = createRoot(el);
  act(() => root.render(<Markdown text={"```js\nconst x = 1; // one\n```"} />));
  expect(el.querySelector("pre code")?.innerHTML).toBe("const x = 1; // one");
  await act(async () => {
    await loadHighlighter();
  });
  expect(el.querySelector("pre code .hljs-keyword")?.textContent).toBe("const");
  expect(el.querySelector("pre code .hljs-comment")?.textContent).toBe("// one");
  expect(el.querySelector("pre code")?.textContent).toBe("const x = 1; // one");
  // Once loaded, a new code block is highlighted from its first render.
  const again = document.createElement("div");
  const root2 = createRoot(again);
  act(() => root2.render(<Markdown text={"```go\nfunc f() {}\n```"} />));
  expect(again.querySelector("pre code .hljs-keyword")?.textContent).toBe("func");
  act(() => {
    root.unmount();
    root2.unmount();
  });
});
