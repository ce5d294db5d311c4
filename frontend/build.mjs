// Build the editor bundle into static/vendor/editor/: one minified IIFE script, its CSS, and the
// licence notices of every third-party package that ends up in the script.
//
//   npm ci && npm run build        (or: npm run watch, to rebuild on every change)

import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../static/vendor/editor");
const watch = process.argv.includes("--watch");

const banner =
  "/* Course editor (CodeMirror 6 bundle). Built from frontend/ with `npm run build`; " +
  "do not edit by hand. Third-party notices: LICENSES.txt */";

const common = {
  bundle: true,
  minify: true,
  // Native <dialog>, CSS.escape and adoptedStyleSheets are needed anyway: no older browsers.
  target: ["es2020", "chrome100", "firefox100", "safari16"],
  legalComments: "none", // notices are collected in LICENSES.txt instead
  logLevel: "info",
};

const scriptOptions = {
  ...common,
  entryPoints: [join(here, "src/index.js")],
  outfile: join(outdir, "editor.bundle.js"),
  format: "iife",
  metafile: true,
  banner: { js: banner },
  plugins: [{ name: "licenses", setup: (build) => build.onEnd(writeLicenses) }],
};

const styleOptions = {
  ...common,
  entryPoints: [join(here, "src/editor.css")],
  outfile: join(outdir, "editor.bundle.css"),
  banner: { css: banner },
};

/** Return the folder of the npm package an input file belongs to, or null for our own code. */
function packageRoot(input) {
  const parts = input.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return null;
  const size = parts[at + 1].startsWith("@") ? 2 : 1;
  return parts.slice(0, at + 1 + size).join("/");
}

function licenseText(root) {
  const name = readdirSync(root).find((file) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(file));
  if (!name) throw new Error(`no licence file in ${root}: add its notice by hand before shipping`);
  return readFileSync(join(root, name), "utf8").trim();
}

function writeLicenses(result) {
  if (!result.metafile) return;
  const roots = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const root = packageRoot(input);
    if (root) roots.add(resolve(here, root));
  }
  const sections = [...roots]
    .map((root) => ({ root, meta: JSON.parse(readFileSync(join(root, "package.json"), "utf8")) }))
    .sort((a, b) => a.meta.name.localeCompare(b.meta.name))
    .map(({ root, meta }) => {
      const home = meta.homepage || (meta.repository && (meta.repository.url || meta.repository)) || "";
      return [
        `${meta.name} ${meta.version} (${meta.license})`,
        home ? String(home) : null,
        "",
        licenseText(root),
      ]
        .filter((line) => line !== null)
        .join("\n");
    });
  const header =
    "Third-party software in editor.bundle.js\n" +
    "========================================\n\n" +
    `The bundle contains the following ${sections.length} packages, built from ` +
    `${relative(resolve(here, ".."), join(here, "package-lock.json"))}.\n`;
  const rule = "\n\n" + "-".repeat(78) + "\n\n";
  writeFileSync(join(outdir, "LICENSES.txt"), header + rule + sections.join(rule) + "\n");
}

mkdirSync(outdir, { recursive: true });
if (watch) {
  const contexts = await Promise.all([esbuild.context(scriptOptions), esbuild.context(styleOptions)]);
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  await Promise.all([esbuild.build(scriptOptions), esbuild.build(styleOptions)]);
}
