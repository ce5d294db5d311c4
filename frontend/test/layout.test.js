import { test } from "node:test";
import assert from "node:assert/strict";

import {
  DEFAULT_TREE_WIDTH,
  MAX_TREE_WIDTH,
  MIN_TREE_WIDTH,
  clampWidth,
  readLayout,
  treeStartsOpen,
  widthForKey,
  writeLayout,
} from "../src/layout.js";

/** A localStorage stand-in: getItem/setItem over a Map; `blocked` throws as Safari may. */
function memoryStorage({ blocked = false } = {}) {
  const items = new Map();
  return {
    items,
    getItem(key) {
      if (blocked) throw new Error("SecurityError");
      return items.has(key) ? items.get(key) : null;
    },
    setItem(key, value) {
      if (blocked) throw new Error("QuotaExceededError");
      items.set(key, String(value));
    },
  };
}

test("the tree starts collapsed for one file and shown for several or none, unless chosen", () => {
  assert.equal(treeStartsOpen({}, 1), false);
  assert.equal(treeStartsOpen({}, 0), true);
  assert.equal(treeStartsOpen({ tree: "collapsed" }, 0), true);
  assert.equal(treeStartsOpen({}, 2), true);
  assert.equal(treeStartsOpen({ tree: "open" }, 1), true);
  assert.equal(treeStartsOpen({ tree: "collapsed" }, 14), false);
});

test("a choice written is read back, and other keys of the layout are kept", () => {
  const storage = memoryStorage();
  writeLayout(storage, "k", { tree: "collapsed" });
  writeLayout(storage, "k", { width: 300.4 });
  assert.deepEqual(readLayout(storage, "k"), { tree: "collapsed", width: 300 });
  assert.deepEqual(JSON.parse(storage.items.get("k")), { tree: "collapsed", width: 300.4 });
});

test("garbage or blocked storage reads as no choice and writing does not throw", () => {
  const storage = memoryStorage();
  for (const stored of ["{", "null", "42", '{"tree": "sideways", "width": "wide"}']) {
    storage.items.set("k", stored);
    assert.deepEqual(readLayout(storage, "k"), {}, stored);
  }
  const blocked = memoryStorage({ blocked: true });
  assert.deepEqual(readLayout(blocked, "k"), {});
  assert.doesNotThrow(() => writeLayout(blocked, "k", { tree: "open" }));
  assert.deepEqual(readLayout(null, "k"), {});
});

test("the width stays between the minimum and half the editor", () => {
  assert.equal(clampWidth(50, 1200), MIN_TREE_WIDTH);
  assert.equal(clampWidth(900, 1200), 560);
  assert.equal(clampWidth(900, 700), 350);
  assert.equal(clampWidth(900, 200), MIN_TREE_WIDTH); // a tiny editor still shows the buttons
  assert.equal(clampWidth(NaN, 1200), DEFAULT_TREE_WIDTH);
  assert.equal(clampWidth(900, undefined), MAX_TREE_WIDTH);
});

test("arrows resize by 16 px, 64 with Shift; Home and End go to the ends; other keys do not", () => {
  assert.equal(widthForKey("ArrowRight", 240, 1200), 256);
  assert.equal(widthForKey("ArrowLeft", 240, 1200), 224);
  assert.equal(widthForKey("ArrowRight", 240, 1200, true), 304);
  assert.equal(widthForKey("ArrowLeft", 170, 1200), MIN_TREE_WIDTH);
  assert.equal(widthForKey("Home", 300, 1200), MIN_TREE_WIDTH);
  assert.equal(widthForKey("End", 300, 1000), 500);
  assert.equal(widthForKey("Enter", 300, 1000), null);
  assert.equal(widthForKey("a", 300, 1000), null);
});
