// Entry point of the bundle: exposes window.CourseEditor for pages without a module loader.

import { mount, defaultLabels, CHANGE_DELAY_MS } from "./editor.js";
import { checkPath, MAX_PATH_LENGTH } from "./paths.js";

const CourseEditor = Object.freeze({ mount, checkPath, defaultLabels, CHANGE_DELAY_MS, MAX_PATH_LENGTH });

window.CourseEditor = CourseEditor;
