// Code highlighting for fenced code blocks, loaded on demand: markdown.tsx
// imports this module dynamically, so highlight.js (core plus the languages
// chat users paste most) is a chunk of its own, fetched when the first
// code block with a language shows, not part of the initial bundle.

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import "./highlight.css";

const languages = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);

// Longer code is shown plain: highlighting it would stall the UI for little gain.
const maxLength = 20_000;
// What highlight.js emits: its span tags (class names from its grammars) around text it has escaped.
const hljsTag = /<span class="[\w -]+">|<\/span>/g;

/**
 * The code as highlight.js's HTML, or null when the language is not one
 * loaded here (given by name or alias; nothing is guessed). The HTML is
 * safe to insert: highlight.js escapes every character of the code (& < >
 * " ') and adds only span tags with class attributes, and anything else is
 * refused here rather than trusted.
 */
export function highlight(code: string, lang: string): string | null {
  if (code.length > maxLength || !hljs.getLanguage(lang)) return null;
  const html = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  return /[<>]/.test(html.replace(hljsTag, "")) ? null : html;
}
