// The editor's look. Every colour is a CSS custom property (--ce-*), defined in editor.css for
// the light and the dark theme, so a theme switch on the page restyles the editor through CSS.
// CodeMirror's own light/dark flag (EditorView.darkTheme) is kept in step by editor.js.

import { EditorView } from "@codemirror/view";
import { HighlightStyle } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";

export const editorTheme = EditorView.theme({
  "&": {
    height: "100%",
    color: "var(--ce-text)",
    backgroundColor: "var(--ce-bg)",
    fontSize: "var(--ce-font-size, 0.92rem)",
  },
  // The focus ring is drawn over the whole editor: an outline would be hidden by the gutters,
  // which are painted above the editor's own box.
  "&.cm-focused": { outline: "none" },
  "&.cm-focused::after": {
    content: "''",
    position: "absolute",
    inset: "0",
    border: "3px solid var(--ce-focus)",
    pointerEvents: "none",
    zIndex: "600",
  },
  ".cm-scroller": {
    fontFamily: "var(--ce-font-mono)",
    lineHeight: "1.55",
  },
  ".cm-content": {
    outline: "none", // the ring is the editor's (above); a page's :focus-visible rule must not add one
    caretColor: "var(--ce-cursor)",
    // CodeMirror sets tab-size from the state; this keeps it at 4 if that attribute is ignored.
    tabSize: "4",
    padding: "0.5rem 0",
  },
  ".cm-line": { padding: "0 0.75rem 0 0.5rem" },
  ".cm-cursor, .cm-dropCursor": { borderLeft: "2px solid var(--ce-cursor)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
    { backgroundColor: "var(--ce-selection)" },
  ".cm-activeLine": { backgroundColor: "var(--ce-active-line)" },
  ".cm-selectionMatch": { backgroundColor: "var(--ce-selection-match)" },
  ".cm-searchMatch": {
    backgroundColor: "var(--ce-search)",
    outline: "1px solid var(--ce-search-border)",
  },
  // The current match keeps the colours (for contrast) and gets a heavier frame.
  ".cm-searchMatch.cm-searchMatch-selected": { outline: "2px solid var(--ce-search-border)" },
  "&.cm-focused .cm-matchingBracket": {
    backgroundColor: "var(--ce-bracket)",
    outline: "1px solid var(--ce-bracket-border)",
  },
  "&.cm-focused .cm-nonmatchingBracket": {
    backgroundColor: "var(--ce-danger-bg)",
    outline: "1px solid var(--ce-danger)",
  },
  ".cm-gutters": {
    backgroundColor: "var(--ce-gutter-bg)",
    color: "var(--ce-muted)",
    borderRight: "1px solid var(--ce-border)",
  },
  ".cm-lineNumbers .cm-gutterElement": { padding: "0 0.4rem 0 0.75rem", minWidth: "2.5ch" },
  ".cm-activeLineGutter": { backgroundColor: "var(--ce-active-line)", color: "var(--ce-text)" },
  ".cm-foldGutter .cm-gutterElement": { padding: "0 0.2rem", cursor: "pointer" },
  ".cm-foldPlaceholder": {
    backgroundColor: "var(--ce-panel-bg)",
    border: "1px solid var(--ce-border-strong)",
    color: "var(--ce-text)",
  },
  ".cm-panels": {
    backgroundColor: "var(--ce-panel-bg)",
    color: "var(--ce-text)",
  },
  ".cm-panels.cm-panels-top": { borderBottom: "1px solid var(--ce-border)" },
  ".cm-panels.cm-panels-bottom": { borderTop: "1px solid var(--ce-border)" },
  ".cm-panel.cm-search": { padding: "0.4rem 2rem 0.4rem 0.6rem", fontFamily: "var(--ce-font-sans)" },
  ".cm-panel.cm-search label": { fontSize: "0.85rem" },
  ".cm-panel button[name=close]": { color: "var(--ce-text)", fontSize: "1.2rem" },
  ".cm-textfield": {
    backgroundColor: "var(--ce-bg)",
    color: "var(--ce-text)",
    border: "1px solid var(--ce-border-strong)",
    borderRadius: "4px",
    padding: "0.2rem 0.4rem",
  },
  ".cm-button": {
    backgroundImage: "none",
    backgroundColor: "var(--ce-bg)",
    color: "var(--ce-text)",
    border: "1px solid var(--ce-border-strong)",
    borderRadius: "4px",
    padding: "0.2rem 0.6rem",
  },
  ".cm-button:active": { backgroundImage: "none", backgroundColor: "var(--ce-active-line)" },
  ".cm-textfield:focus-visible, .cm-button:focus-visible, .cm-panel button:focus-visible, .cm-panel input:focus-visible":
    { outline: "3px solid var(--ce-focus)", outlineOffset: "1px" },
  ".cm-tooltip": {
    backgroundColor: "var(--ce-panel-bg)",
    color: "var(--ce-text)",
    border: "1px solid var(--ce-border-strong)",
    borderRadius: "4px",
  },
  ".cm-tooltip-autocomplete > ul": { fontFamily: "var(--ce-font-mono)" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": {
    backgroundColor: "var(--ce-accent)",
    color: "var(--ce-on-accent)",
  },
  ".cm-completionMatchedText": { textDecoration: "none", fontWeight: "700" },
  ".cm-completionDetail": { color: "inherit", opacity: "0.85" },
});

export const highlightStyle = HighlightStyle.define([
  {
    tag: [t.keyword, t.controlKeyword, t.operatorKeyword, t.definitionKeyword, t.moduleKeyword],
    color: "var(--ce-keyword)",
  },
  { tag: [t.modifier, t.self], color: "var(--ce-keyword)" },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: "var(--ce-comment)", fontStyle: "italic" },
  { tag: [t.string, t.special(t.string), t.character, t.attributeValue, t.docString], color: "var(--ce-string)" },
  { tag: [t.escape, t.regexp], color: "var(--ce-constant)" },
  { tag: [t.number, t.integer, t.float, t.bool, t.null, t.atom, t.unit], color: "var(--ce-constant)" },
  { tag: [t.constant(t.variableName), t.standard(t.variableName)], color: "var(--ce-constant)" },
  {
    tag: [t.function(t.variableName), t.function(t.definition(t.variableName)), t.function(t.propertyName)],
    color: "var(--ce-function)",
  },
  { tag: [t.definition(t.className), t.className, t.typeName, t.namespace], color: "var(--ce-class)" },
  { tag: [t.meta, t.annotation, t.special(t.variableName)], color: "var(--ce-meta)" },
  { tag: [t.tagName], color: "var(--ce-tag)" },
  { tag: [t.attributeName], color: "var(--ce-attribute)" },
  { tag: [t.propertyName], color: "var(--ce-property)" },
  { tag: [t.processingInstruction, t.documentMeta], color: "var(--ce-meta)" },
  { tag: [t.heading], color: "var(--ce-heading)", fontWeight: "700" },
  { tag: [t.emphasis], fontStyle: "italic" },
  { tag: [t.strong], fontWeight: "700" },
  { tag: [t.strikethrough], textDecoration: "line-through" },
  { tag: [t.link, t.url], color: "var(--ce-link)", textDecoration: "underline" },
  { tag: [t.quote, t.contentSeparator], color: "var(--ce-comment)" },
  { tag: [t.invalid], color: "var(--ce-danger)" },
]);
