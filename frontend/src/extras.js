// Features the editor adds once it is on screen: completion, closing brackets, search, and
// highlighting of the selected word. A chunk of their own, so the first paint waits for none.

import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completeAnyWord,
  completionKeymap,
} from "@codemirror/autocomplete";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { EditorState } from "@codemirror/state";
import { keymap } from "@codemirror/view";

/** Complete words found in the file, typeless so a name the language also offers shows once. */
function completeWords(context) {
  const result = completeAnyWord(context);
  return result && { ...result, options: result.options.map(({ label }) => ({ label })) };
}

/** Return the extensions; placed before the core keymap, so their keys take precedence. */
export function extras() {
  return [
    closeBrackets(),
    autocompletion(),
    // Words already in the file complete in every language, next to the language's own list.
    EditorState.languageData.of(() => [{ autocomplete: completeWords }]),
    highlightSelectionMatches(),
    search({ top: true }),
    keymap.of([...closeBracketsKeymap, ...searchKeymap, ...completionKeymap]),
  ];
}
