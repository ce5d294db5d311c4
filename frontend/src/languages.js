// Syntax support chosen from a file's extension. Unknown extensions get plain text.

import { StreamLanguage } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { jinja } from "@codemirror/lang-jinja";
import { css } from "@codemirror/lang-css";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import { markdown } from "@codemirror/lang-markdown";
import { toml } from "@codemirror/legacy-modes/mode/toml";
import { yaml } from "@codemirror/legacy-modes/mode/yaml";

const tomlLanguage = StreamLanguage.define(toml);
const yamlLanguage = StreamLanguage.define(yaml);

// Built on first use and shared by every file of that kind.
const cache = new Map();

const byExtension = {
  py: "python",
  pyi: "python",
  pyw: "python",
  // HTML files in Flask and Django projects are templates: Jinja support highlights
  // {% %}, {{ }} and {# #} (Django's template tags share that syntax) on top of HTML.
  html: "template",
  htm: "template",
  jinja: "template",
  jinja2: "template",
  j2: "template",
  toml: "toml",
  json: "json",
  css: "css",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  md: "markdown",
  markdown: "markdown",
  yml: "yaml",
  yaml: "yaml",
};

const builders = {
  python: () => python(),
  template: () => jinja(),
  toml: () => tomlLanguage,
  json: () => json(),
  css: () => css(),
  javascript: () => javascript(),
  markdown: () => markdown(),
  yaml: () => yamlLanguage,
};

/** Return the name of the language used for a path ("text" when none applies). */
export function languageName(path) {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "text";
  return byExtension[name.slice(dot + 1)] || "text";
}

/** Return the CodeMirror extension that gives a path its syntax support. */
export function languageFor(path) {
  const name = languageName(path);
  if (name === "text") return [];
  if (!cache.has(name)) cache.set(name, builders[name]());
  return cache.get(name);
}
