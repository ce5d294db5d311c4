// File paths in the editor: checking a name the learner typed, and grouping paths into folders.
// The rules match what the server accepts in a submission (sandbox/archive.py), so a file that
// can be created here can also be saved and graded.

export const MAX_PATH_LENGTH = 200;

const DRIVE_LETTER = /^[A-Za-z]:/;
// Control characters (including line breaks and NUL) never belong in a file name.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Check a path typed by the learner against the existing paths.
 *
 * Returns {path} (trimmed and NFC-normalised, as the server stores it) when the name can be used,
 * or {error, values} where error is a key of the labels and values fill its {placeholders}.
 * `renaming` is the current path of the file being renamed: it does not count as taken.
 */
export function checkPath(raw, existing, renaming = null) {
  const path = String(raw ?? "").trim().normalize("NFC");
  if (path === "") return { error: "errorEmpty" };
  if (path.length > MAX_PATH_LENGTH) return { error: "errorTooLong", values: { max: MAX_PATH_LENGTH } };
  if (CONTROL.test(path)) return { error: "errorControl" };
  if (path.includes("\\")) return { error: "errorBackslash" };
  if (path.startsWith("/")) return { error: "errorLeadingSlash" };
  if (DRIVE_LETTER.test(path)) return { error: "errorDrive" };

  const parts = path.split("/");
  if (parts.some((part) => part === "")) return { error: "errorEmptyPart" };
  if (parts.some((part) => part === "." || part === "..")) return { error: "errorDots" };

  const others = [...existing].filter((other) => other !== renaming);
  if (others.includes(path)) return { error: "errorDuplicate", values: { path } };
  // A path is either a file or a folder, never both: `templates` cannot be a file while
  // `templates/index.html` exists, and `app.py/x` cannot exist next to the file `app.py`.
  if (others.some((other) => other.startsWith(path + "/"))) {
    return { error: "errorIsFolder", values: { path } };
  }
  for (let i = 1; i < parts.length; i++) {
    const folder = parts.slice(0, i).join("/");
    if (others.includes(folder)) return { error: "errorInsideFile", values: { path: folder } };
  }
  return { path };
}

/** Compare two names the way a file browser does: case-insensitive, numbers in order. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function compareNames(a, b) {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Group file paths into a tree of folders.
 *
 * Returns the root folder: {name, path, folders: [...], files: [{name, path}]}, where folders
 * come first and each list is sorted by name.
 */
export function buildTree(paths) {
  const root = { name: "", path: "", folders: new Map(), files: [] };
  for (const path of paths) {
    const parts = path.split("/");
    let folder = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i];
      if (!folder.folders.has(name)) {
        folder.folders.set(name, {
          name,
          path: parts.slice(0, i + 1).join("/"),
          folders: new Map(),
          files: [],
        });
      }
      folder = folder.folders.get(name);
    }
    folder.files.push({ name: parts[parts.length - 1], path });
  }
  return sortFolder(root);
}

function sortFolder(folder) {
  return {
    name: folder.name,
    path: folder.path,
    folders: [...folder.folders.values()]
      .sort((a, b) => compareNames(a.name, b.name))
      .map(sortFolder),
    files: folder.files.sort((a, b) => compareNames(a.name, b.name)),
  };
}

/** Return the paths in the order the tree shows them (folders first, then files, by name). */
export function treeOrder(paths) {
  const ordered = [];
  const walk = (folder) => {
    folder.folders.forEach(walk);
    folder.files.forEach((file) => ordered.push(file.path));
  };
  walk(buildTree(paths));
  return ordered;
}

/** Return the folders that contain a path, outermost first: a/b/c.py → ["a", "a/b"]. */
export function parentFolders(path) {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** Return the folder part of a path with a trailing slash ("" for a top-level file). */
export function folderOf(path) {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash + 1);
}
