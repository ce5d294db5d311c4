import { test } from "node:test";
import assert from "node:assert/strict";

import { languageName, loadLanguage, loadedLanguage } from "../src/languages.js";

test("it picks the language from the extension", () => {
  const cases = {
    "app.py": "python",
    "templates/base.html": "template",
    "pyproject.toml": "toml",
    "data/config.JSON": "json",
    "static/site.css": "css",
    "static/app.js": "javascript",
    "README.md": "markdown",
    "compose.yaml": "yaml",
    "requirements.txt": "text",
    Dockerfile: "text",
    ".env": "text",
  };
  for (const [path, name] of Object.entries(cases)) assert.equal(languageName(path), name, path);
});

test("a language is loaded on first use, once, and plain text needs nothing", async () => {
  assert.deepEqual(loadedLanguage("notes.txt"), []);
  assert.equal(loadedLanguage("app.py"), null);
  const [first, second] = await Promise.all([loadLanguage("app.py"), loadLanguage("views.py")]);
  assert.equal(first, second);
  assert.equal(loadedLanguage("models.py"), first);
  assert.equal(first.language.name, "python");
  const template = await loadLanguage("templates/index.html");
  assert.notEqual(template, first);
  assert.deepEqual(await loadLanguage("Dockerfile"), []);
});
