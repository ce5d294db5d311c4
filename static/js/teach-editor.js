/* The lesson editor: the live preview's finishing touches, images (button and drag and
   drop), a confirmation before discarding a draft, and a warning before leaving unsaved text.
   htmx posts the text and swaps the preview; this file sets the new preview up as the
   lesson page sets up its own content (site.js: tabs, copy buttons, tables). */
(function () {
  "use strict";

  var UNAVAILABLE =
    "Image upload is not available on this site yet. Put the image where it can be linked " +
    "and write ![alt text](address) in the text instead.";

  function setStatus(element, message, isError) {
    if (!element) return;
    element.textContent = message;
    element.classList.toggle("is-error", Boolean(isError));
  }

  /* Preview ------------------------------------------------------------------ */

  function setupPreview() {
    var preview = document.getElementById("lesson-preview");
    var status = document.getElementById("preview-status");
    if (!preview) return;

    function isPreview(event) {
      return event.detail && event.detail.target === preview;
    }

    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (!isPreview(event)) return;
      preview.setAttribute("aria-busy", "true");
      setStatus(status, "Updating…");
    });
    // A refused preview (too large) answers 413 with a message meant for the pane.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (!isPreview(event)) return;
      if (event.detail.xhr.status === 413) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!isPreview(event)) return;
      if (window.courseSite) window.courseSite.initContent(preview);
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (!isPreview(event)) return;
      preview.removeAttribute("aria-busy");
      var xhr = event.detail.xhr;
      if (event.detail.successful || (xhr && xhr.status === 413)) {
        setStatus(status, "");
      } else if (xhr && xhr.status === 403) {
        setStatus(status, "Preview not updated: you may no longer edit this course.", true);
      } else if (xhr && xhr.status) {
        setStatus(status, "Preview not updated: the site answered " + xhr.status + ". Your text is safe; keep typing to try again.", true);
      } else {
        setStatus(status, "Preview not updated: the site could not be reached. Your text is safe; keep typing to try again.", true);
      }
    });
  }

  /* Unsaved changes -------------------------------------------------------------- */

  function setupDirtyWarning(form) {
    var dirty = false;
    form.addEventListener("input", function () {
      dirty = true;
    });
    form.addEventListener("submit", function (event) {
      // Opening a preview in a new tab saves nothing.
      var submitter = event.submitter;
      if (!submitter || !submitter.hasAttribute("data-preview-learner")) dirty = false;
    });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty) return;
      event.preventDefault();
      event.returnValue = "";
    });
  }

  function setupConfirmations(form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  /* Images ------------------------------------------------------------------------ */

  function csrfToken(form) {
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function uploadMessage(response, data) {
    if (response.status === 404) return UNAVAILABLE;
    if (response.status === 413) return "The image is too large to upload.";
    if (response.status === 403) return "You may not upload images to this course.";
    if (data && typeof data.error === "string" && data.error) return data.error;
    return "The image could not be uploaded (the site answered " + response.status + ").";
  }

  function setupImages(form) {
    var textarea = form.querySelector("textarea[data-image-url]");
    var dialog = document.getElementById("image-dialog");
    var button = form.querySelector("[data-insert-image]");
    if (!textarea || !dialog || typeof dialog.showModal !== "function") return;
    var dialogForm = dialog.querySelector("form");
    var fileInput = document.getElementById("image-file");
    var fileField = document.getElementById("image-file-field");
    var dropped = document.getElementById("image-dropped");
    var altInput = document.getElementById("image-alt");
    var error = document.getElementById("image-error");
    var uploadButton = dialog.querySelector("[data-upload]");
    var editorStatus = document.getElementById("image-status");
    var droppedFile = null;
    var selection = { start: 0, end: 0 };

    function showError(message) {
      error.textContent = message;
      error.hidden = !message;
      setStatus(editorStatus, message, Boolean(message));
    }

    function open(file) {
      selection = { start: textarea.selectionStart, end: textarea.selectionEnd };
      droppedFile = file || null;
      dialogForm.reset();
      showError("");
      fileField.hidden = Boolean(droppedFile);
      dropped.hidden = !droppedFile;
      dropped.textContent = droppedFile ? "File: " + droppedFile.name : "";
      dialog.showModal();
      (droppedFile ? altInput : fileInput).focus();
    }

    function insert(markdown) {
      textarea.focus();
      textarea.setRangeText(markdown, selection.start, selection.end, "end");
      // Tell the preview (and the unsaved-changes warning) about the new text.
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    dialogForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = droppedFile || (fileInput.files && fileInput.files[0]);
      var alt = altInput.value.trim();
      if (!file) {
        showError("Choose an image file.");
        fileInput.focus();
        return;
      }
      if (!alt) {
        showError("Write the alt text: say what the image shows, for readers who cannot see it.");
        altInput.focus();
        return;
      }
      var body = new FormData();
      body.append("image", file);
      body.append("alt", alt);
      uploadButton.disabled = true;
      showError("");
      setStatus(editorStatus, "Uploading " + file.name + "…");
      fetch(textarea.getAttribute("data-image-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form), Accept: "application/json" },
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return null;
            })
            .then(function (data) {
              if (response.ok && data && typeof data.markdown === "string") {
                dialog.close();
                insert(data.markdown);
                setStatus(editorStatus, "Image inserted.");
              } else {
                showError(uploadMessage(response, data));
              }
            });
        })
        .catch(function () {
          showError("The image could not be uploaded: the site could not be reached.");
        })
        .then(function () {
          uploadButton.disabled = false;
        });
    });

    dialog.querySelector("[data-close-dialog]").addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("close", function () {
      textarea.focus();
    });

    button.hidden = false;
    button.addEventListener("click", function () {
      open(null);
    });

    function imageIn(dataTransfer) {
      if (!dataTransfer || !dataTransfer.files) return null;
      return Array.prototype.filter.call(dataTransfer.files, function (file) {
        return /^image\//.test(file.type);
      })[0] || null;
    }

    textarea.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
        event.preventDefault();
        textarea.classList.add("is-drop-target");
      }
    });
    textarea.addEventListener("dragleave", function () {
      textarea.classList.remove("is-drop-target");
    });
    textarea.addEventListener("drop", function (event) {
      textarea.classList.remove("is-drop-target");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      // A dropped file never lands in the text as a path or a blob.
      event.preventDefault();
      var file = imageIn(event.dataTransfer);
      if (!file) {
        setStatus(editorStatus, "Only image files can be dropped here (PNG, JPEG, GIF or WebP).", true);
        return;
      }
      open(file);
    });
  }

  function init() {
    setupPreview();
    var form = document.getElementById("lesson-form");
    if (!form) return;
    setupDirtyWarning(form);
    setupConfirmations(form);
    setupImages(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
