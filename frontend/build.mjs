// Build the editor bundle into static/vendor/editor/: a minified ES module with the editor's
// core, the chunks it imports when needed (chunks/: a language each, completion and search),
// its CSS, and the licence notices of every third-party package that ends up in the scripts.
//
//   npm ci && npm run build        (or: npm run watch, to rebuild on every change)

import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync } from "node:zlib";
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
  outdir,
  entryNames: "editor.bundle",
  // The hash is of the chunk's content: a changed chunk gets a new name, so browsers may keep
  // these for good (config/settings.py tells WhiteNoise so).
  chunkNames: "chunks/[name]-[hash]",
  format: "esm",
  splitting: true,
  metafile: true,
  banner: { js: banner },
  plugins: [
    { name: "licenses", setup: (build) => build.onEnd(writeLicenses) },
    { name: "sizes", setup: (build) => build.onEnd(reportSizes) },
  ],
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
    "Third-party software in editor.bundle.js and chunks/\n" +
    "==================================================\n\n" +
    `The bundle contains the following ${sections.length} packages, built from ` +
    `${relative(resolve(here, ".."), join(here, "package-lock.json"))}.\n`;
  const rule = "\n\n" + "-".repeat(78) + "\n\n";
  writeFileSync(join(outdir, "LICENSES.txt"), header + rule + sections.join(rule) + "\n");
}

/** Print what a page loads with the editor (the entry and its static imports) and on demand. */
function reportSizes(result) {
  if (!result.metafile) return;
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((name) => name.endsWith("/editor.bundle.js"));
  const eager = new Set();
  const visit = (name) => {
    if (eager.has(name)) return;
    eager.add(name);
    for (const item of outputs[name].imports) if (item.kind === "import-statement") visit(item.path);
  };
  visit(entry);
  const total = (names) =>
    names.reduce(
      (sum, name) => {
        const data = readFileSync(resolve(here, name));
        sum.raw += data.length;
        sum.gzip += gzipSync(data, { level: 9 }).length;
        sum.brotli += brotliCompressSync(data).length;
        return sum;
      },
      { raw: 0, gzip: 0, brotli: 0 },
    );
  const kb = (size) => `${(size.raw / 1000).toFixed(1)} kB (gzip ${(size.gzip / 1000).toFixed(1)}, brotli ${(size.brotli / 1000).toFixed(1)})`;
  const scripts = Object.keys(outputs).filter((name) => name.endsWith(".js"));
  console.log(`  loaded with the page: ${eager.size} files, ${kb(total([...eager]))}`);
  console.log(`  on demand:            ${scripts.length - eager.size} files, ${kb(total(scripts.filter((n) => !eager.has(n))))}`);
}

mkdirSync(outdir, { recursive: true });
// Chunks of an earlier build would otherwise pile up next to the new ones.
rmSync(join(outdir, "chunks"), { recursive: true, force: true });
if (watch) {
  const contexts = await Promise.all([esbuild.context(scriptOptions), esbuild.context(styleOptions)]);
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  await Promise.all([esbuild.build(scriptOptions), esbuild.build(styleOptions)]);
}
