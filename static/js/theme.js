/* Set the colour theme before the page paints, so a dark page never flashes white.
   Loaded in <head> without defer; site.js wires up the toggle button later. */
(function () {
  "use strict";
  var root = document.documentElement;
  var media = window.matchMedia("(prefers-color-scheme: dark)");
  var stored = null;
  try {
    stored = window.localStorage.getItem("theme");
  } catch (err) {
    /* Storage can be blocked (private mode, strict settings): follow the system. */
  }
  function apply() {
    var chosen = root.getAttribute("data-theme-choice");
    root.setAttribute("data-theme", chosen || (media.matches ? "dark" : "light"));
  }
  if (stored === "light" || stored === "dark") {
    root.setAttribute("data-theme-choice", stored);
  }
  root.classList.add("js");
  apply();
  media.addEventListener("change", apply);
})();
