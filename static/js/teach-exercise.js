/* The exercise form of the instructor area: one editor holding every file of the exercise
   (tests/, starter/<framework>/, solution/<framework>/), kept in the form's hidden "files"
   field. Without this file the form still saves, keeping the files as they were, and a zip
   of the exercise folder can replace them. */
(function () {
  "use strict";

  function setup() {
    var form = document.querySelector("[data-exercise-form]");
    var host = document.getElementById("editor");
    var data = document.getElementById("exercise-files");
    if (!form || !host || !data || !window.CourseEditor) return;
    var field = form.querySelector('input[name="files"]');
    var files = JSON.parse(data.textContent);
    var paths = Object.keys(files).sort();
    var first = paths.filter(function (p) { return p.indexOf("tests/") === 0; })[0] || paths[0];

    host.innerHTML = "";
    var editor = window.CourseEditor.mount(host, {
      files: files,
      openPath: first,
      layoutKey: "teach-exercise-editor:layout",
      onChange: function (current) {
        field.value = JSON.stringify(current);
      },
    });
    field.value = JSON.stringify(files);
    form.addEventListener("submit", function () {
      field.value = JSON.stringify(editor.getFiles());
    });
  }

  function focusErrors() {
    var errors = document.getElementById("form-errors");
    if (errors) errors.focus();
  }

  function start() {
    focusErrors();
    if (window.CourseEditor) {
      setup();
    } else {
      // The editor is a module script: it may still be loading.
      var loading = document.querySelector("[data-editor-loading]");
      if (loading) loading.hidden = false;
      window.addEventListener("load", setup, { once: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
