import { test } from "node:test";
import assert from "node:assert/strict";

import { languageName } from "../src/languages.js";

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
