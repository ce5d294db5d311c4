// The file tree's layout: shown or collapsed, and its width. Kept per browser (localStorage),
// so a learner who hides the tree or widens it finds it that way on the next exercise.

export const LAYOUT_KEY = "course-editor:layout";
export const MIN_TREE_WIDTH = 160; // px: room for "New file", "Rename", "Delete" and short names
export const MAX_TREE_WIDTH = 560;
export const DEFAULT_TREE_WIDTH = 240;
export const KEY_STEP = 16;
export const BIG_KEY_STEP = 64;

/** Return the stored layout, {tree?: "open"|"collapsed", width?: number}, or {} if none. */
export function readLayout(storage, key = LAYOUT_KEY) {
  if (!storage || !key) return {};
  let parsed;
  try {
    parsed = JSON.parse(storage.getItem(key) || "{}");
  } catch (err) {
    return {}; // unreadable or blocked storage: the defaults apply
  }
  if (!parsed || typeof parsed !== "object") return {};
  const layout = {};
  if (parsed.tree === "open" || parsed.tree === "collapsed") layout.tree = parsed.tree;
  if (Number.isFinite(parsed.width)) layout.width = Math.round(parsed.width);
  return layout;
}

/** Store a change to the layout, keeping what is already stored; blocked storage is fine. */
export function writeLayout(storage, key, change) {
  if (!storage || !key) return;
  try {
    storage.setItem(key, JSON.stringify({ ...readLayout(storage, key), ...change }));
  } catch (err) {
    /* Storage may be full or blocked: the choice then lasts until the page is left. */
  }
}

/** Say whether the tree starts shown: the learner's choice, else only for several files.
 *  With no file at all it is shown whatever was chosen: its "New file" is the way to start. */
export function treeStartsOpen(layout, fileCount) {
  if (fileCount === 0) return true;
  if (layout.tree) return layout.tree === "open";
  return fileCount > 1;
}

/** Return the widest the tree may be in an editor `total` px wide (the code keeps the rest). */
export function maxTreeWidth(total) {
  const limit = Number.isFinite(total) && total > 0 ? Math.floor(total / 2) : MAX_TREE_WIDTH;
  return Math.max(MIN_TREE_WIDTH, Math.min(MAX_TREE_WIDTH, limit));
}

/** Return `width` kept within the tree's limits for an editor `total` px wide. */
export function clampWidth(width, total) {
  const value = Number.isFinite(width) ? Math.round(width) : DEFAULT_TREE_WIDTH;
  return Math.min(maxTreeWidth(total), Math.max(MIN_TREE_WIDTH, value));
}

/**
 * Return the width a key press on the resize handle asks for, or null for other keys.
 * Arrows move by 16 px (64 with Shift); Home and End go to the narrowest and widest.
 */
export function widthForKey(key, width, total, shift = false) {
  const step = shift ? BIG_KEY_STEP : KEY_STEP;
  switch (key) {
    case "ArrowLeft":
      return clampWidth(width - step, total);
    case "ArrowRight":
      return clampWidth(width + step, total);
    case "Home":
      return MIN_TREE_WIDTH;
    case "End":
      return maxTreeWidth(total);
    default:
      return null;
  }
}
