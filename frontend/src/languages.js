// Syntax support chosen from a file's extension. Unknown extensions get plain text.
//
// Each language is a chunk of its own, fetched the first time a file needs it: the page
// loads only the editor's core, and most exercises then need Python and perhaps templates.

import { StreamLanguage } from "@codemirror/language";

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

const loaders = {
  python: () => import("@codemirror/lang-python").then((m) => m.python()),
  template: () => import("@codemirror/lang-jinja").then((m) => m.jinja()),
  toml: () => import("@codemirror/legacy-modes/mode/toml").then((m) => StreamLanguage.define(m.toml)),
  json: () => import("@codemirror/lang-json").then((m) => m.json()),
  css: () => import("@codemirror/lang-css").then((m) => m.css()),
  javascript: () => import("@codemirror/lang-javascript").then((m) => m.javascript()),
  markdown: () => import("@codemirror/lang-markdown").then((m) => m.markdown()),
  yaml: () => import("@codemirror/legacy-modes/mode/yaml").then((m) => StreamLanguage.define(m.yaml)),
};

// Built on first use and shared by every file of that kind.
const loaded = new Map([["text", []]]);
const loading = new Map();

/** Return the name of the language used for a path ("text" when none applies). */
export function languageName(path) {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "text";
  return byExtension[name.slice(dot + 1)] || "text";
}

/** Return a path's syntax support if it is loaded already ([] for plain text), else null. */
export function loadedLanguage(path) {
  const name = languageName(path);
  return loaded.has(name) ? loaded.get(name) : null;
}

/** Return a promise of a path's syntax support; a chunk that fails to load gives plain text. */
export function loadLanguage(path) {
  const name = languageName(path);
  if (loaded.has(name)) return Promise.resolve(loaded.get(name));
  if (!loading.has(name)) {
    const promise = loaders[name]().then(
      (extension) => {
        loaded.set(name, extension);
        loading.delete(name);
        return extension;
      },
      (err) => {
        // Offline or a deploy in between: edit as plain text, and try again next time.
        console.error(`CourseEditor: the ${name} highlighting could not be loaded:`, err);
        loading.delete(name);
        return [];
      },
    );
    loading.set(name, promise);
  }
  return loading.get(name);
}
