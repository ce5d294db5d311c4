/* The exercise page: the editor with its server-side autosave, the framework picker,
   reset to starter, submitting the editor's files, folder uploads, the countdown of the
   submission rate limit, local times, and the focus on a result once it arrives. The
   submission page uses the last three.
   Without this file the page still shows the instructions, the starter downloads and the
   upload forms, and the server enforces every rule by itself. */
(function () {
  "use strict";

  // The same memory of framework choices as the lesson tabs (site.js): labels, newest first.
  var TAB_KEY = "tab-choices";
  var TAB_MEMORY = 6;
  // Folders and files the server leaves out of a submission anyway (sandbox/archive.py);
  // dropping them here keeps a folder upload small and under the file-count limit.
  var JUNK_FOLDERS = [
    "__MACOSX", "__pycache__", ".git", ".hg", ".svn", ".venv", "venv", "node_modules",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".idea", ".vscode",
  ];
  var JUNK_FILES = [".DS_Store", "Thumbs.db", "desktop.ini"];
  var RETRY_DELAYS = [2000, 4000, 8000, 15000, 30000];
  // Browsers refuse keepalive requests with bodies over 64 KiB.
  var KEEPALIVE_LIMIT = 60 * 1024;

  function readStorage(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (err) {
      return null;
    }
  }

  function writeStorage(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (err) {
      /* Blocked storage only means the choice is not remembered. */
    }
  }

  function tabChoices() {
    try {
      var parsed = JSON.parse(readStorage(TAB_KEY) || "[]");
      return Array.isArray(parsed) ? parsed : [];
    } catch (err) {
      return [];
    }
  }

  function rememberTab(label) {
    var choices = tabChoices().filter(function (c) {
      return c !== label;
    });
    choices.unshift(label);
    writeStorage(TAB_KEY, JSON.stringify(choices.slice(0, TAB_MEMORY)));
  }

  function announce(message) {
    var region = document.getElementById("live-status");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function csrfToken() {
    var field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /* Local times ------------------------------------------------------------ */

  function localizeTimes(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      el.textContent = date.toLocaleString([], {
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      });
      el.removeAttribute("data-local-time");
    });
  }

  /* Submit buttons and the rate-limit countdown ---------------------------- */

  var countdownTimer = null;

  function syncSubmitButtons() {
    var bar = document.querySelector("[data-submit-bar]");
    if (!bar) return;
    var allowed = bar.getAttribute("data-allowed") === "true";
    document.querySelectorAll("[data-submit-button]").forEach(function (button) {
      button.disabled = !allowed;
      // htmx re-enables what it disabled during a request; a rate limit must outlast that.
      if (!allowed) button.removeAttribute("data-disabled-by-htmx");
    });
  }

  function startCountdown() {
    window.clearInterval(countdownTimer);
    var note = document.querySelector("[data-submit-bar] [data-countdown]");
    if (!note) return;
    var left = parseInt(note.getAttribute("data-countdown"), 10) || 0;
    var value = note.querySelector("[data-countdown-value]");
    countdownTimer = window.setInterval(function () {
      left -= 1;
      if (left > 0) {
        // Kept on the element, so a restart (after an htmx swap) goes on from here.
        note.setAttribute("data-countdown", String(left));
        if (value) value.textContent = String(left);
        return;
      }
      window.clearInterval(countdownTimer);
      note.removeAttribute("data-countdown");
      note.textContent = "You can submit again.";
      var bar = note.closest("[data-submit-bar]");
      if (bar && !bar.querySelector("[data-active-submission]")) {
        bar.setAttribute("data-allowed", "true");
      }
      syncSubmitButtons();
    }, 1000);
  }

  /* Folder uploads --------------------------------------------------------- */

  function isJunk(parts, venvs) {
    var name = parts[parts.length - 1];
    for (var i = 0; i < parts.length - 1; i++) {
      if (JUNK_FOLDERS.indexOf(parts[i]) !== -1) return true;
      if (venvs.indexOf(parts.slice(0, i + 1).join("/")) !== -1) return true;
    }
    return (
      JUNK_FILES.indexOf(name) !== -1 ||
      name.indexOf("._") === 0 ||
      /\.py[co]$/.test(name)
    );
  }

  function setupFolderForm(maxFiles) {
    var form = document.querySelector("[data-folder-form]");
    if (!form) return;
    var input = form.querySelector('input[type="file"]');
    var paths = form.querySelector("[data-folder-paths]");
    var summary = form.querySelector("[data-folder-summary]");
    var help = summary ? summary.innerHTML : "";
    var errors = form.querySelector(".form-errors");

    function showError(message) {
      if (!errors) return;
      errors.innerHTML = "";
      var p = document.createElement("p");
      p.className = "message message--error form-error";
      p.setAttribute("role", "alert");
      p.textContent = message;
      errors.appendChild(p);
    }

    input.addEventListener("change", function () {
      if (errors) errors.innerHTML = "";
      var files = Array.prototype.slice.call(input.files || []);
      var all = files.map(function (f) {
        return (f.webkitRelativePath || f.name).split("/");
      });
      // A folder holding pyvenv.cfg is a virtual environment, whatever its name.
      var venvs = all
        .filter(function (parts) {
          return parts[parts.length - 1] === "pyvenv.cfg";
        })
        .map(function (parts) {
          return parts.slice(0, -1).join("/");
        });
      var kept = [];
      var keptPaths = [];
      files.forEach(function (file, i) {
        if (!isJunk(all[i], venvs)) {
          kept.push(file);
          keptPaths.push(all[i].join("/"));
        }
      });
      if (typeof DataTransfer === "function" && kept.length !== files.length) {
        var transfer = new DataTransfer();
        kept.forEach(function (file) {
          transfer.items.add(file);
        });
        input.files = transfer.files;
      } else if (kept.length !== files.length) {
        keptPaths = all.map(function (parts) {
          return parts.join("/");
        });
      }
      paths.value = JSON.stringify(keptPaths);
      if (!files.length) {
        if (summary) summary.innerHTML = help;
        return;
      }
      var left = files.length - kept.length;
      if (summary) {
        summary.textContent =
          keptPaths.length + " file" + (keptPaths.length === 1 ? "" : "s") + " to upload" +
          (left ? " (" + left + " cache or environment file" + (left === 1 ? "" : "s") + " left out)." : ".");
      }
      if (maxFiles && keptPaths.length > maxFiles) {
        showError(
          "The folder has " + keptPaths.length + " files; at most " + maxFiles +
          " can be uploaded this way. Zip the folder and upload the zip instead."
        );
        input.value = "";
        paths.value = "";
      }
    });
  }

  /* The editor and its autosave ------------------------------------------- */

  function setupWorkspace(data) {
    var host = document.getElementById("editor");
    if (!host || !window.CourseEditor) return;
    var status = document.querySelector("[data-save-status]");
    var resetButton = document.querySelector("[data-reset]");
    var submitForm = document.querySelector("[data-submit-form]");
    var labels = {};
    data.frameworks.forEach(function (fw) {
      labels[fw.key] = fw.label;
    });

    var framework = data.framework;
    if (!data.chosen) {
      // No draft yet: open the framework this reader last picked in a lesson or here.
      tabChoices().some(function (label) {
        return data.frameworks.some(function (fw) {
          if (fw.label === label) framework = fw.key;
          return fw.label === label;
        });
      });
    }
    var files = data.files; // per framework: what the editor holds
    var saved = data.saved; // per framework: when the server last stored it
    var openFirst = data.open || {}; // per framework: the file the exercise opens first

    function showStatus(state, text) {
      if (!status) return;
      status.setAttribute("data-state", state);
      status.textContent = text;
    }

    function showSaved() {
      if (saved[framework]) {
        showStatus("saved", "Saved ✓ " + clock(new Date(saved[framework])));
      } else {
        showStatus("idle", "Starting from the starter files. Your changes are saved as you type.");
      }
    }

    /* Saving: one request at a time, the newest files per framework, retried on failure. */
    var pending = {};
    var inFlight = false;
    var retryTimer = null;
    var failures = 0;

    function queueSave(fw, fileSet) {
      pending[fw] = fileSet;
      window.clearTimeout(retryTimer);
      if (document.visibilityState === "hidden") {
        flushWithKeepalive();
      } else {
        flush();
      }
    }

    function nextPending() {
      var keys = Object.keys(pending);
      return keys.length ? keys[0] : null;
    }

    function flush() {
      if (inFlight) return;
      var fw = nextPending();
      if (fw === null) return;
      var fileSet = pending[fw];
      delete pending[fw];
      inFlight = true;
      if (fw === framework) showStatus("saving", "Saving…");
      send(fw, fileSet, false)
        .then(function (answer) {
          inFlight = false;
          if (answer.ok) {
            failures = 0;
            saved[fw] = answer.saved;
            if (fw === framework && !pending[fw]) showSaved();
            flush();
          } else if (answer.retry) {
            if (!(fw in pending)) pending[fw] = fileSet;
            var delay = RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)];
            failures += 1;
            showStatus("retrying", "Not saved — retrying");
            retryTimer = window.setTimeout(flush, delay);
          } else {
            showStatus("error", answer.error);
            announce(answer.error);
            flush();
          }
        });
    }

    function flushWithKeepalive() {
      Object.keys(pending).forEach(function (fw) {
        var fileSet = pending[fw];
        delete pending[fw];
        send(fw, fileSet, true);
      });
    }

    function send(fw, fileSet, keepalive) {
      var body = JSON.stringify({ framework: fw, files: fileSet });
      return window
        .fetch(data.saveUrl, {
          method: "POST",
          credentials: "same-origin",
          keepalive: keepalive && body.length < KEEPALIVE_LIMIT,
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": csrfToken(),
          },
          body: body,
        })
        .then(
          function (response) {
            return response
              .json()
              .catch(function () {
                return {};
              })
              .then(function (json) {
                if (response.ok && json.saved) return { ok: true, saved: json.saved };
                if (response.status === 403) {
                  return {
                    ok: false,
                    error: json.error || "Not saved: your session has ended. Reload the page and log in again.",
                  };
                }
                if (response.status >= 400 && response.status < 500) {
                  return { ok: false, error: json.error || "Not saved: the server refused these files." };
                }
                return { ok: false, retry: true };
              });
          },
          function () {
            return { ok: false, retry: true };
          }
        );
    }

    /* The editor. */
    host.innerHTML = "";
    var editor = window.CourseEditor.mount(host, {
      files: files[framework] || {},
      openPath: openFirst[framework],
      onChange: function (fileSet) {
        files[framework] = fileSet;
        queueSave(framework, fileSet);
      },
    });

    // What the live console (console.js) starts: the framework chosen and the editor's files.
    host.currentWork = function () {
      return { framework: framework, files: editor.getFiles() };
    };

    function setFramework(fw, remember) {
      if (fw === framework || !files[fw]) return;
      // An edit made just before switching may not have been reported yet: save it now.
      var current = editor.getFiles();
      if (JSON.stringify(current) !== JSON.stringify(files[framework])) {
        files[framework] = current;
        queueSave(framework, current);
      }
      framework = fw;
      editor.setFiles(files[fw], openFirst[fw]);
      document.querySelectorAll("[data-framework-field]").forEach(function (field) {
        field.value = fw;
      });
      document.querySelectorAll("[data-framework-select]").forEach(function (select) {
        select.value = fw;
      });
      document.querySelectorAll("[data-starter-link]").forEach(function (link) {
        link.hidden = link.getAttribute("data-starter-link") !== fw;
      });
      document.querySelectorAll("[data-framework-note]").forEach(function (note) {
        note.hidden = note.getAttribute("data-framework-note") !== fw;
      });
      document.querySelectorAll('input[name="framework-choice"]').forEach(function (radio) {
        radio.checked = radio.value === fw;
      });
      if (remember) rememberTab(labels[fw]);
      showSaved();
    }

    document.querySelectorAll('input[name="framework-choice"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) {
          setFramework(radio.value, true);
          announce(labels[radio.value] + " files opened in the editor.");
        }
      });
    });

    if (resetButton) {
      resetButton.hidden = false;
      resetButton.addEventListener("click", function () {
        var ok = window.confirm(
          "Replace your " + labels[framework] + " files with the starter files? " +
          "Your changes to them will be lost."
        );
        if (!ok) return;
        var starter = JSON.parse(JSON.stringify(data.starters[framework] || {}));
        files[framework] = starter;
        editor.setFiles(starter, openFirst[framework]);
        queueSave(framework, starter);
        announce("The starter files are back.");
      });
    }

    if (submitForm) {
      submitForm.hidden = false;
      // Capture runs before htmx reads the form, so the request carries the current files.
      document.addEventListener(
        "submit",
        function (event) {
          if (event.target !== submitForm) return;
          var current = editor.getFiles();
          files[framework] = current;
          submitForm.querySelector("[data-files-field]").value = JSON.stringify(current);
          submitForm.querySelector("[data-framework-field]").value = framework;
          queueSave(framework, current);
        },
        true
      );
    }

    // The skip link puts the keyboard in the code, not only on the editor's box.
    var skip = document.querySelector("[data-skip-to-editor]");
    if (skip) {
      skip.addEventListener("click", function (event) {
        event.preventDefault();
        editor.focus();
      });
    }

    if (framework !== data.framework) {
      var initial = framework;
      framework = data.framework;
      setFramework(initial, false);
    } else {
      showSaved();
    }
  }

  /* A verdict arrives ------------------------------------------------------ */

  // Submitting disables and then replaces the button, which leaves the focus nowhere: once
  // the result is in, it goes to the result's heading, unless the learner went on elsewhere
  // (typing in the editor, say) in the meantime.
  function focusVerdict(root) {
    if (!root || root === document.body || !root.querySelector) return;
    var done = root.matches(".submission-status.is-done")
      ? root
      : root.querySelector(".submission-status.is-done");
    var heading = done && done.querySelector(".result__title");
    if (!heading) return;
    var active = document.activeElement;
    var adrift =
      !active ||
      active === document.body ||
      Boolean(active.closest("[data-submit-form], .submission-status, #latest"));
    if (adrift) heading.focus();
  }

  /* Start ------------------------------------------------------------------ */

  function refresh(root) {
    localizeTimes(root || document);
    syncSubmitButtons();
    startCountdown();
  }

  function init() {
    var dataNode = document.getElementById("editor-data");
    var data = null;
    if (dataNode) {
      try {
        data = JSON.parse(dataNode.textContent);
      } catch (err) {
        data = null;
      }
    }
    if (data) {
      var loading = document.querySelector("[data-editor-loading]");
      if (loading) loading.hidden = false;
      setupWorkspace(data);
      setupFolderForm(data.maxFiles);
    }
    refresh(document);
    // After htmx puts new parts in the page (a status, a result, the submit bar).
    document.body.addEventListener("htmx:load", function (event) {
      localizeTimes(event.target);
      focusVerdict(event.target);
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      syncSubmitButtons();
      startCountdown();
    });
    document.body.addEventListener("htmx:afterRequest", syncSubmitButtons);
    document.body.addEventListener("htmx:oobAfterSwap", function () {
      syncSubmitButtons();
      startCountdown();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
