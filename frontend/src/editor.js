// The multi-file editor: a file tree on the left, one CodeMirror view on the right.
//
// Each file keeps its own EditorState (text, selection, undo history, syntax tree); switching
// files swaps the state shown in the single view, so undo never crosses from one file to another.

import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";

import { loadLanguage, loadedLanguage } from "./languages.js";
import {
  LAYOUT_KEY,
  DEFAULT_TREE_WIDTH,
  MIN_TREE_WIDTH,
  clampWidth,
  maxTreeWidth,
  readLayout,
  treeStartsOpen,
  widthForKey,
  writeLayout,
} from "./layout.js";
import { checkPath, buildTree, folderOf, parentFolders, treeOrder, compareNames } from "./paths.js";
import { editorTheme, highlightStyle } from "./theme.js";

export const CHANGE_DELAY_MS = 800;

export const defaultLabels = {
  files: "Files",
  toggleFiles: "Files",
  resizeFiles: "Resize the file list",
  filesWidth: "{width} pixels wide",
  newFile: "New file",
  rename: "Rename",
  renameFile: "Rename {path}",
  delete: "Delete",
  deleteFile: "Delete {path}",
  cancel: "Cancel",
  create: "Create file",
  newFileTitle: "New file",
  renameTitle: "Rename {path}",
  renameSubmit: "Rename",
  pathLabel: "File path",
  pathHelp: "Use / between folder names, for example templates/index.html.",
  deleteTitle: "Delete {path}?",
  deleteText: "The file and everything in it will be removed. This cannot be undone.",
  deleteSubmit: "Delete file",
  readOnly: "read-only",
  readOnlyHelp: "This file is part of the exercise and cannot be changed.",
  noFiles: "There are no files yet. Choose “New file” to create one.",
  editorLabel: "Code of {path}",
  editorHint: "Tab indents the code. To move focus out of the code editor, press Escape, then Tab.",
  keyHint: "Esc then Tab: leave the editor",
  opened: "{path} opened.",
  created: "{path} created.",
  renamed: "{from} renamed to {path}.",
  deleted: "{path} deleted.",
  errorEmpty: "Enter a file name, such as app.py or templates/index.html.",
  errorTooLong: "This path is too long: use at most {max} characters.",
  errorControl: "A file name cannot contain line breaks, tabs or other control characters.",
  errorBackslash: "Use / to separate folders, not \\.",
  errorLeadingSlash: "Start with a file or folder name, not with /.",
  errorDrive: "Give a path inside the project, without a drive letter.",
  errorEmptyPart: "A folder name is missing: remove the extra / (paths cannot contain // or end with /).",
  errorDots: "Folder names . and .. cannot be used: give the path from the top of the project.",
  errorDuplicate: "A file named {path} already exists.",
  errorIsFolder: "{path} is already a folder. Choose another name.",
  errorInsideFile: "{path} is a file, so it cannot contain other files.",
};

let instanceCount = 0;
const mounted = new WeakMap();

/** Replace {name} placeholders in a label. */
function fill(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Create an element: h("button", {class: "x", type: "button"}, "text", child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return el;
}

/** Return the CSP nonce the page published in <meta name="csp-nonce">, if any. */
export function pageNonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return (meta && meta.getAttribute("content")) || "";
}

/** Say whether the page shows its dark theme: data-theme on <html>, else the system setting. */
function pageIsDark(media) {
  const chosen = document.documentElement.getAttribute("data-theme");
  if (chosen === "dark") return true;
  if (chosen === "light") return false;
  return Boolean(media && media.matches);
}

/** Return the page's localStorage, or null where it is blocked. */
function browserStorage() {
  try {
    return window.localStorage;
  } catch (err) {
    return null;
  }
}

// Completion, search and closing brackets come in a chunk of their own (extras.js), fetched
// once the first editor is on screen; every editor of the page shares the one request.
let extrasPromise = null;
function loadExtras() {
  if (!extrasPromise) {
    extrasPromise = import("./extras.js").then(
      (module) => module.extras(),
      (err) => {
        console.error("CourseEditor: completion and search could not be loaded:", err);
        extrasPromise = null;
        return null;
      },
    );
  }
  return extrasPromise;
}

function checkFiles(files) {
  if (files === null || typeof files !== "object" || Array.isArray(files)) {
    throw new TypeError("CourseEditor: files must be an object mapping paths to text");
  }
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== "string") {
      throw new TypeError(`CourseEditor: the content of ${JSON.stringify(path)} must be a string`);
    }
  }
}

/**
 * Mount an editor into container and return its handle.
 *
 * options: files ({path: text}), openPath (the file shown first, if it is one of them),
 * readOnlyPaths ([path]), onChange(files) (debounced), labels ({key: text}, see
 * defaultLabels), cspNonce (else read from <meta name="csp-nonce">), layoutKey (where the
 * tree's layout is kept in localStorage; null keeps it for this page only).
 */
export function mount(container, options = {}) {
  if (!(container instanceof Element)) throw new TypeError("CourseEditor.mount needs an element");
  if (mounted.has(container)) mounted.get(container).destroy();

  const files = options.files || {};
  checkFiles(files);
  const labels = { ...defaultLabels, ...(options.labels || {}) };
  const readOnly = new Set(options.readOnlyPaths || []);
  const onChange = typeof options.onChange === "function" ? options.onChange : null;
  const nonce = options.cspNonce !== undefined ? options.cspNonce : pageNonce();
  const layoutKey = options.layoutKey !== undefined ? options.layoutKey : LAYOUT_KEY;
  const storage = layoutKey ? browserStorage() : null;
  const id = `ce${++instanceCount}`;

  // Per file: its EditorState while another file is shown, and where it was scrolled to.
  const states = new Map();
  const scrolls = new Map();
  const collapsed = new Set();
  let activePath = null;
  let changeTimer = null;
  let destroyed = false;

  // --- Layout ----------------------------------------------------------------------------------

  const newButton = h("button", { type: "button", class: "ce-btn", "data-action": "new" }, labels.newFile);
  const renameButton = h("button", { type: "button", class: "ce-btn", "data-action": "rename" }, labels.rename);
  const deleteButton = h(
    "button",
    { type: "button", class: "ce-btn ce-btn--danger", "data-action": "delete" },
    labels.delete,
  );
  const tree = h("nav", { class: "ce-tree", "aria-label": labels.files });
  const sidebar = h(
    "div",
    { class: "ce-sidebar", id: `${id}-sidebar` },
    h("div", { class: "ce-actions" }, newButton, renameButton, deleteButton),
    tree,
  );
  const treeToggle = h(
    "button",
    {
      type: "button",
      class: "ce-btn ce-tree-toggle",
      "aria-controls": `${id}-sidebar`,
      "aria-expanded": "true",
    },
    h("span", { class: "ce-tree-toggle-icon", "aria-hidden": "true" }),
    labels.toggleFiles,
  );
  // The window-splitter pattern: a focusable separator that arrows, Home and End resize and
  // Enter collapses, as well as a mouse or a finger dragging it.
  const resizer = h("div", {
    class: "ce-resizer",
    role: "separator",
    tabindex: "0",
    "aria-orientation": "vertical",
    "aria-controls": `${id}-sidebar`,
    "aria-label": labels.resizeFiles,
    "aria-valuemin": String(MIN_TREE_WIDTH),
  });

  const pathText = h("span", { class: "ce-path", id: `${id}-path` });
  const readOnlyBadge = h("span", { class: "ce-badge", hidden: true, title: labels.readOnlyHelp }, labels.readOnly);
  const keyHint = h("span", { class: "ce-keyhint", "aria-hidden": "true" }, labels.keyHint);
  const pathbar = h("div", { class: "ce-pathbar" }, treeToggle, pathText, readOnlyBadge, keyHint);
  const viewHost = h("div", { class: "ce-view" });
  const emptyNote = h("p", { class: "ce-empty", hidden: true }, labels.noFiles);
  const main = h("div", { class: "ce-main" }, viewHost, emptyNote);
  const status = h("div", { class: "ce-visually-hidden", role: "status", "aria-live": "polite" });

  // One dialog asks for a path (new file, rename); another confirms a deletion. Native <dialog>
  // gives focus containment, Escape to cancel and a backdrop without any code of our own.
  const pathInput = h("input", {
    type: "text",
    id: `${id}-path-input`,
    class: "ce-input",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    maxlength: "1000",
    "aria-describedby": `${id}-path-error ${id}-path-help`,
  });
  const pathError = h("p", { class: "ce-error", id: `${id}-path-error`, role: "alert" });
  const pathTitle = h("h2", { class: "ce-dialog-title", id: `${id}-path-title` });
  const pathSubmit = h("button", { type: "submit", class: "ce-btn ce-btn--primary" });
  const pathCancel = h("button", { type: "button", class: "ce-btn", "data-close": "" }, labels.cancel);
  const pathForm = h(
    "form",
    { class: "ce-dialog-form", novalidate: true },
    pathTitle,
    h("label", { class: "ce-label", for: `${id}-path-input` }, labels.pathLabel),
    pathInput,
    h("p", { class: "ce-help", id: `${id}-path-help` }, labels.pathHelp),
    pathError,
    h("div", { class: "ce-dialog-actions" }, pathSubmit, pathCancel),
  );
  const pathDialog = h("dialog", { class: "ce-dialog", "aria-labelledby": `${id}-path-title` }, pathForm);

  const deleteTitle = h("h2", { class: "ce-dialog-title", id: `${id}-delete-title` });
  const deleteCancel = h("button", { type: "button", class: "ce-btn", "data-close": "" }, labels.cancel);
  const deleteForm = h(
    "form",
    { class: "ce-dialog-form" },
    deleteTitle,
    h("p", { class: "ce-dialog-text", id: `${id}-delete-text` }, labels.deleteText),
    h(
      "div",
      { class: "ce-dialog-actions" },
      h("button", { type: "submit", class: "ce-btn ce-btn--danger-strong" }, labels.deleteSubmit),
      deleteCancel,
    ),
  );
  const deleteDialog = h(
    "dialog",
    {
      class: "ce-dialog",
      role: "alertdialog",
      "aria-labelledby": `${id}-delete-title`,
      "aria-describedby": `${id}-delete-text`,
    },
    deleteForm,
  );

  const wrapper = h(
    "div",
    { class: "ce" },
    pathbar,
    sidebar,
    resizer,
    main,
    status,
    pathDialog,
    deleteDialog,
  );
  container.replaceChildren(wrapper);

  // --- Tree layout -------------------------------------------------------------------------------

  const layout = readLayout(storage, layoutKey);
  let treeWidth = Number.isFinite(layout.width) ? layout.width : DEFAULT_TREE_WIDTH;
  let treeOpen = true;

  function applyTreeWidth(width) {
    const total = wrapper.getBoundingClientRect().width;
    treeWidth = clampWidth(width, total || undefined);
    wrapper.style.setProperty("--ce-tree-width", `${treeWidth}px`);
    resizer.setAttribute("aria-valuenow", String(treeWidth));
    resizer.setAttribute("aria-valuemax", String(maxTreeWidth(total || undefined)));
    resizer.setAttribute("aria-valuetext", fill(labels.filesWidth, { width: treeWidth }));
  }

  function setTreeOpen(open, remember) {
    treeOpen = open;
    wrapper.classList.toggle("ce--tree-collapsed", !open);
    treeToggle.setAttribute("aria-expanded", open ? "true" : "false");
    sidebar.hidden = !open;
    resizer.hidden = !open;
    if (remember) writeLayout(storage, layoutKey, { tree: open ? "open" : "collapsed" });
  }

  treeToggle.addEventListener("click", () => {
    setTreeOpen(!treeOpen, true);
    if (treeOpen) applyTreeWidth(treeWidth);
  });

  resizer.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      setTreeOpen(false, true);
      treeToggle.focus();
      return;
    }
    const total = wrapper.getBoundingClientRect().width;
    const width = widthForKey(event.key, treeWidth, total, event.shiftKey);
    if (width === null) return;
    event.preventDefault();
    applyTreeWidth(width);
    writeLayout(storage, layoutKey, { width: treeWidth });
  });

  let drag = null;
  resizer.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    drag = { start: event.clientX, width: treeWidth };
    resizer.setPointerCapture(event.pointerId);
    wrapper.classList.add("ce--resizing");
  });
  resizer.addEventListener("pointermove", (event) => {
    if (drag) applyTreeWidth(drag.width + event.clientX - drag.start);
  });
  function endDrag() {
    if (!drag) return;
    drag = null;
    wrapper.classList.remove("ce--resizing");
    writeLayout(storage, layoutKey, { width: treeWidth });
  }
  resizer.addEventListener("pointerup", endDrag);
  resizer.addEventListener("pointercancel", endDrag);
  // A double click puts the tree back to its usual width.
  resizer.addEventListener("dblclick", () => {
    applyTreeWidth(DEFAULT_TREE_WIDTH);
    writeLayout(storage, layoutKey, { width: treeWidth });
  });

  // The code area's focus shows the "Esc then Tab" hint in the bar above.
  main.addEventListener("focusin", () => wrapper.classList.add("ce--code-focus"));
  main.addEventListener("focusout", () => wrapper.classList.remove("ce--code-focus"));

  // --- CodeMirror --------------------------------------------------------------------------------

  // CodeMirror adds its styles at run time. Under a Content-Security-Policy without
  // 'unsafe-inline' in style-src, a <style> element is only applied when it carries the page's
  // nonce. Without a nonce, the view lives in a shadow root instead: there CodeMirror uses a
  // constructed style sheet (adoptedStyleSheets), which CSP does not restrict.
  const viewRoot = nonce ? viewHost : viewHost.attachShadow({ mode: "open" });
  // aria-describedby cannot point across a shadow root, so the hint lives next to the view.
  const hint = document.createElement("span");
  hint.id = `${id}-hint`;
  hint.textContent = labels.editorHint;
  // Set through the CSSOM (allowed by CSP), since this element may sit outside editor.css's reach.
  Object.assign(hint.style, {
    position: "absolute",
    width: "1px",
    height: "1px",
    overflow: "hidden",
    clipPath: "inset(50%)",
    whiteSpace: "nowrap",
  });
  viewRoot.append(hint);

  const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const darkOn = EditorView.darkTheme.of(true);
  const darkOff = EditorView.darkTheme.of(false);
  let themeExtension = pageIsDark(media) ? darkOn : darkOff;
  const themeSlot = new Compartment();
  const fileSlot = new Compartment();
  const languageSlot = new Compartment();
  const extrasSlot = new Compartment();
  let extrasExtension = [];

  const shared = [
    // First, so the keys of completion and search come before the core keymap.
    extrasSlot.of([]),
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    EditorState.tabSize.of(4),
    indentUnit.of("    "), // PEP 8; also fine for templates
    indentOnInput(),
    syntaxHighlighting(highlightStyle),
    bracketMatching(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    keymap.of([
      ...defaultKeymap,
      ...historyKeymap,
      ...foldKeymap,
      // Tab indents; Escape then Tab moves focus out (CodeMirror's tab focus mode).
      indentWithTab,
    ]),
    // tabindex makes the scroller's content a Tab stop even where contenteditable is not
    // counted as one (axe: scrollable-region-focusable); in it, the arrows and Page Up/Down
    // move through the code and scroll it. It stays focusable in read-only files.
    EditorView.contentAttributes.of({ "aria-describedby": hint.id, tabindex: "0" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) scheduleChange();
    }),
    editorTheme,
    nonce ? EditorView.cspNonce.of(nonce) : [],
  ];

  function languageOf(path) {
    const language = loadedLanguage(path);
    if (language !== null) return language;
    // Shown as plain text until its highlighting arrives, a moment later.
    loadLanguage(path).then(() => {
      if (!destroyed && activePath !== null && loadedLanguage(activePath) !== null) syncView();
    });
    return [];
  }

  function fileExtensions(path) {
    return [
      EditorState.readOnly.of(readOnly.has(path)),
      EditorView.contentAttributes.of({ "aria-label": fill(labels.editorLabel, { path }) }),
    ];
  }

  function createState(path, text) {
    return EditorState.create({
      doc: text,
      extensions: [
        shared,
        fileSlot.of(fileExtensions(path)),
        languageSlot.of(languageOf(path)),
        themeSlot.of(themeExtension),
      ],
    });
  }

  /** Bring the shown state up to date: the theme, the extras, the file's language. */
  function syncView() {
    if (activePath === null) return;
    const state = view.state;
    const effects = [];
    // A stored state may predate a theme switch, the extras or its language's arrival.
    if (themeSlot.get(state) !== themeExtension) effects.push(themeSlot.reconfigure(themeExtension));
    if (extrasSlot.get(state) !== extrasExtension) effects.push(extrasSlot.reconfigure(extrasExtension));
    const language = loadedLanguage(activePath);
    if (language !== null && languageSlot.get(state) !== language) {
      effects.push(languageSlot.reconfigure(language));
    }
    if (effects.length) view.dispatch({ effects });
  }

  const view = new EditorView({
    parent: viewRoot,
    root: nonce ? document : viewRoot,
    state: EditorState.create({ extensions: [shared, themeSlot.of(themeExtension)] }),
  });

  // --- Files -------------------------------------------------------------------------------------

  function paths() {
    return [...states.keys()];
  }

  function stateOf(path) {
    return path === activePath ? view.state : states.get(path);
  }

  function getFiles() {
    const result = {};
    for (const path of paths().sort(compareNames)) result[path] = stateOf(path).doc.toString();
    return result;
  }

  function show(path) {
    if (activePath !== null && states.has(activePath)) {
      states.set(activePath, view.state);
      scrolls.set(activePath, view.scrollSnapshot());
    }
    activePath = path;
    if (path === null) {
      view.setState(EditorState.create({ extensions: [shared, themeSlot.of(themeExtension)] }));
    } else {
      view.setState(states.get(path));
      syncView();
      if (scrolls.has(path)) view.dispatch({ effects: scrolls.get(path) });
      for (const folder of parentFolders(path)) collapsed.delete(folder);
    }
    render();
  }

  function firstPath() {
    const ordered = treeOrder(paths());
    return ordered.find((path) => !path.includes("/")) || ordered[0] || null;
  }

  function load(newFiles, openPath) {
    states.clear();
    scrolls.clear();
    collapsed.clear();
    activePath = null;
    for (const [path, text] of Object.entries(newFiles)) states.set(path, createState(path, text));
    // Without a choice of the learner's, a one-file project gives the code the whole width.
    setTreeOpen(treeStartsOpen(readLayout(storage, layoutKey), states.size), false);
    show(openPath && states.has(openPath) ? openPath : firstPath());
  }

  // --- Change notifications --------------------------------------------------------------------

  function notify() {
    clearTimeout(changeTimer);
    changeTimer = null;
    if (!onChange || destroyed) return;
    try {
      onChange(getFiles());
    } catch (err) {
      // A failing page callback must not break editing.
      console.error("CourseEditor onChange failed:", err);
    }
  }

  function scheduleChange() {
    clearTimeout(changeTimer);
    changeTimer = setTimeout(notify, CHANGE_DELAY_MS);
  }

  function flushPending() {
    if (changeTimer !== null) notify();
  }

  function onVisibilityChange() {
    // The last keystrokes before leaving the page would otherwise wait for a timer that never fires.
    if (document.visibilityState === "hidden") flushPending();
  }

  function onKeyDown(event) {
    const key = event.key && event.key.toLowerCase();
    if (key === "s" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
      event.preventDefault();
      notify();
    }
  }

  // --- Rendering ---------------------------------------------------------------------------------

  let announceTimer = null;
  function announce(message) {
    // Clearing first makes a repeated message be read again.
    status.textContent = "";
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      status.textContent = message;
    }, 50);
  }

  function renderFolder(folder) {
    const list = h("ul", { class: "ce-tree-list", role: "list" });
    for (const sub of folder.folders) {
      const details = h(
        "details",
        { class: "ce-folder", open: !collapsed.has(sub.path), "data-folder": sub.path },
        h("summary", { class: "ce-folder-name" }, sub.name),
        renderFolder(sub),
      );
      details.addEventListener("toggle", () => {
        if (details.open) collapsed.delete(sub.path);
        else collapsed.add(sub.path);
      });
      list.append(h("li", {}, details));
    }
    for (const file of folder.files) {
      const current = file.path === activePath;
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "ce-file",
              "data-path": file.path,
              "aria-current": current ? "true" : false,
            },
            h("span", { class: "ce-file-name" }, file.name),
            readOnly.has(file.path)
              ? h("span", { class: "ce-badge", title: labels.readOnlyHelp }, labels.readOnly)
              : null,
          ),
        ),
      );
    }
    return list;
  }

  function focusedTreePath() {
    const active = document.activeElement;
    return active && tree.contains(active) && active.dataset ? active.dataset.path || null : null;
  }

  function focusTreeItem(path) {
    const button = path && tree.querySelector(`button[data-path="${CSS.escape(path)}"]`);
    if (button) button.focus();
    return Boolean(button);
  }

  function render(focusPath = focusedTreePath()) {
    tree.replaceChildren(renderFolder(buildTree(paths())));
    if (focusPath) focusTreeItem(focusPath);

    const hasFile = activePath !== null;
    const locked = hasFile && readOnly.has(activePath);
    pathText.textContent = hasFile ? activePath : "";
    readOnlyBadge.hidden = !locked;
    viewHost.hidden = !hasFile;
    emptyNote.hidden = hasFile;
    renameButton.disabled = !hasFile || locked;
    deleteButton.disabled = !hasFile || locked;
    if (hasFile) {
      renameButton.setAttribute("aria-label", fill(labels.renameFile, { path: activePath }));
      deleteButton.setAttribute("aria-label", fill(labels.deleteFile, { path: activePath }));
    } else {
      renameButton.removeAttribute("aria-label");
      deleteButton.removeAttribute("aria-label");
    }
  }

  // --- Dialogs -----------------------------------------------------------------------------------

  let pathMode = null; // "new" or "rename"
  let returnFocus = null;

  function openDialog(dialog, opener) {
    returnFocus = opener;
    dialog.showModal();
  }

  function closeDialog(dialog, focusTarget) {
    if (focusTarget) returnFocus = focusTarget;
    dialog.close();
  }

  function restoreFocus() {
    const target = returnFocus;
    returnFocus = null;
    if (target === view) view.focus();
    else if (typeof target === "string") focusTreeItem(target) || newButton.focus();
    else if (target && target.isConnected && !target.disabled) target.focus();
    else newButton.focus();
  }

  function showPathError(message) {
    pathError.textContent = message;
    pathInput.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function askPath(mode) {
    pathMode = mode;
    showPathError("");
    if (mode === "new") {
      pathTitle.textContent = labels.newFileTitle;
      pathSubmit.textContent = labels.create;
      pathInput.value = activePath ? folderOf(activePath) : "";
      openDialog(pathDialog, newButton);
      pathInput.focus();
      pathInput.setSelectionRange(pathInput.value.length, pathInput.value.length);
    } else {
      pathTitle.textContent = fill(labels.renameTitle, { path: activePath });
      pathSubmit.textContent = labels.renameSubmit;
      pathInput.value = activePath;
      openDialog(pathDialog, renameButton);
      // Select the name without its extension, as file managers do.
      const start = folderOf(activePath).length;
      const dot = activePath.lastIndexOf(".");
      pathInput.focus();
      pathInput.setSelectionRange(start, dot > start ? dot : activePath.length);
    }
  }

  function submitPath() {
    const renaming = pathMode === "rename" ? activePath : null;
    const result = checkPath(pathInput.value, paths(), renaming);
    if (result.error) {
      showPathError(fill(labels[result.error], result.values));
      pathInput.focus();
      return;
    }
    const path = result.path;
    if (pathMode === "new") {
      states.set(path, createState(path, ""));
      closeDialog(pathDialog, view);
      show(path);
      announce(fill(labels.created, { path }));
    } else if (path !== renaming) {
      renameFile(renaming, path);
      closeDialog(pathDialog, path);
      announce(fill(labels.renamed, { from: renaming, path }));
    } else {
      closeDialog(pathDialog);
      return;
    }
    scheduleChange();
  }

  function renameFile(from, to) {
    // The view keeps showing the same state, so undo history and scroll position survive.
    const effects = [fileSlot.reconfigure(fileExtensions(to)), languageSlot.reconfigure(languageOf(to))];
    const entries = [...states.entries()].map(([path, state]) => {
      if (path !== from) return [path, state];
      return [to, path === activePath ? state : state.update({ effects }).state];
    });
    states.clear();
    entries.forEach(([path, state]) => states.set(path, state));
    if (scrolls.has(from)) {
      scrolls.set(to, scrolls.get(from));
      scrolls.delete(from);
    }
    if (activePath === from) {
      activePath = to;
      view.dispatch({ effects });
      for (const folder of parentFolders(to)) collapsed.delete(folder);
    }
    render(null);
  }

  function askDelete() {
    deleteTitle.textContent = fill(labels.deleteTitle, { path: activePath });
    openDialog(deleteDialog, deleteButton);
    // The safe choice has the focus, so a stray Enter does not delete anything.
    deleteCancel.focus();
  }

  function deleteActive() {
    const path = activePath;
    const ordered = treeOrder(paths());
    const index = ordered.indexOf(path);
    const next = ordered[index + 1] || ordered[index - 1] || null;
    states.delete(path);
    scrolls.delete(path);
    activePath = null;
    show(next);
    closeDialog(deleteDialog, next || newButton);
    announce(fill(labels.deleted, { path }));
    scheduleChange();
  }

  // --- Events ------------------------------------------------------------------------------------

  tree.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-path]");
    if (!button || !tree.contains(button)) return;
    const path = button.dataset.path;
    if (path !== activePath) {
      show(path);
      announce(fill(labels.opened, { path }));
    }
  });
  newButton.addEventListener("click", () => askPath("new"));
  renameButton.addEventListener("click", () => activePath && askPath("rename"));
  deleteButton.addEventListener("click", () => activePath && askDelete());
  pathInput.addEventListener("input", () => showPathError(""));
  pathForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submitPath();
  });
  deleteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    deleteActive();
  });
  for (const dialog of [pathDialog, deleteDialog]) {
    dialog.addEventListener("close", restoreFocus);
    dialog.querySelector("[data-close]").addEventListener("click", () => closeDialog(dialog));
    // A click on the backdrop (outside the form) cancels, as Escape does.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) closeDialog(dialog);
    });
  }
  wrapper.addEventListener("keydown", onKeyDown);
  document.addEventListener("visibilitychange", onVisibilityChange);
  window.addEventListener("pagehide", flushPending);

  function syncTheme() {
    const wanted = pageIsDark(media) ? darkOn : darkOff;
    if (wanted === themeExtension) return;
    themeExtension = wanted;
    view.dispatch({ effects: themeSlot.reconfigure(wanted) });
  }
  const themeObserver = new MutationObserver(syncTheme);
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  if (media) media.addEventListener("change", syncTheme);

  applyTreeWidth(treeWidth);
  load(files, options.openPath);
  loadExtras().then((extension) => {
    if (!extension || destroyed) return;
    extrasExtension = extension;
    syncView();
  });

  // --- Public handle -----------------------------------------------------------------------------

  const handle = {
    /** Return every file as {path: text}. */
    getFiles,
    /** Replace all files (and their undo histories), showing openPath if given; no onChange. */
    setFiles(newFiles, openPath) {
      checkFiles(newFiles);
      clearTimeout(changeTimer);
      changeTimer = null;
      if (pathDialog.open) pathDialog.close();
      if (deleteDialog.open) deleteDialog.close();
      load(newFiles, openPath);
    },
    /** Show a file in the editor; return false if there is no such file. */
    openFile(path) {
      if (!states.has(path)) return false;
      if (path !== activePath) show(path);
      return true;
    },
    /** Say whether the file tree is shown. */
    isTreeOpen() {
      return treeOpen;
    },
    /** Return the path of the file shown in the editor, or null. */
    getActivePath() {
      return activePath;
    },
    /** Move the keyboard focus into the code. */
    focus() {
      view.focus();
    },
    /** Remove the editor; a change still waiting for its delay is reported first. */
    destroy() {
      if (destroyed) return;
      flushPending();
      destroyed = true;
      clearTimeout(announceTimer);
      themeObserver.disconnect();
      if (media) media.removeEventListener("change", syncTheme);
      document.removeEventListener("visibilitychange", onVisibilityChange);
      window.removeEventListener("pagehide", flushPending);
      view.destroy();
      wrapper.remove();
      mounted.delete(container);
    },
  };
  mounted.set(container, handle);
  return handle;
}
