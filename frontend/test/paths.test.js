import { test } from "node:test";
import assert from "node:assert/strict";

import { buildTree, checkPath, folderOf, parentFolders, treeOrder } from "../src/paths.js";

const existing = ["app.py", "templates/index.html", "templates/partials/nav.html"];

test("it accepts a new path and trims and normalises it", () => {
  assert.deepEqual(checkPath("  static/style.css ", existing), { path: "static/style.css" });
  assert.deepEqual(checkPath("cafe\u0301.py", existing), { path: "caf\u00e9.py" });
});

test("it rejects unsafe or malformed paths with a reason", () => {
  const cases = {
    "": "errorEmpty",
    "   ": "errorEmpty",
    "/etc/passwd": "errorLeadingSlash",
    "../app.py": "errorDots",
    "a/./b.py": "errorDots",
    "a//b.py": "errorEmptyPart",
    "static/": "errorEmptyPart",
    "a\\b.py": "errorBackslash",
    "C:/x.py": "errorDrive",
    "a\nb.py": "errorControl",
    ["x".repeat(201)]: "errorTooLong",
  };
  for (const [raw, error] of Object.entries(cases)) {
    assert.equal(checkPath(raw, existing).error, error, JSON.stringify(raw));
  }
});

test("it accepts a path of exactly the maximum length", () => {
  assert.ok(checkPath("x".repeat(200), existing).path);
});

test("it rejects a duplicate, a file over a folder and a file inside a file", () => {
  assert.deepEqual(checkPath("app.py", existing), { error: "errorDuplicate", values: { path: "app.py" } });
  assert.equal(checkPath("templates", existing).error, "errorIsFolder");
  assert.equal(checkPath("templates/partials", existing).error, "errorIsFolder");
  assert.deepEqual(checkPath("app.py/views.py", existing), {
    error: "errorInsideFile",
    values: { path: "app.py" },
  });
});

test("a file being renamed does not count as taken", () => {
  assert.deepEqual(checkPath("app.py", existing, "app.py"), { path: "app.py" });
  assert.deepEqual(checkPath("app.py/x.py", existing, "app.py"), { path: "app.py/x.py" });
  assert.equal(checkPath("templates/index.html", existing, "app.py").error, "errorDuplicate");
});

test("the tree lists folders first, then files, sorted by name", () => {
  const tree = buildTree(["b.py", "A.py", "templates/z.html", "static/css/site.css", "templates/a.html"]);
  assert.deepEqual(
    tree.folders.map((f) => f.path),
    ["static", "templates"],
  );
  assert.deepEqual(
    tree.files.map((f) => f.name),
    ["A.py", "b.py"],
  );
  assert.equal(tree.folders[0].folders[0].files[0].path, "static/css/site.css");
  assert.deepEqual(treeOrder(["b.py", "a/c.py", "a.py", "file10.py", "file9.py"]), [
    "a/c.py",
    "a.py",
    "b.py",
    "file9.py",
    "file10.py",
  ]);
});

test("it names the folders of a path", () => {
  assert.deepEqual(parentFolders("a/b/c.py"), ["a", "a/b"]);
  assert.deepEqual(parentFolders("c.py"), []);
  assert.equal(folderOf("a/b/c.py"), "a/b/");
  assert.equal(folderOf("c.py"), "");
});
