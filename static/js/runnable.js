/* Runnable code blocks in lessons.

   Each block the server marked runnable (div.runnable[data-run-block], see lessons.runnable)
   gets a toolbar under it. A signed-in reader can Run it (an app block: "Run as app", with the
   example requests, which they can edit, remove or add to, each with its headers typed one
   "Name: value" a line), Edit it in the site's editor and Reset it to the author's code. A
   run is posted to the server, which answers where its result will be; this script asks for
   it every POLL_MS until it is there, and gives up after GIVE_UP_MS. An anonymous reader sees
   a link to sign in instead. Without this script the blocks stay plain, readable, copyable
   code. */
(function () {
  "use strict";

  var POLL_MS = 300;
  var GIVE_UP_MS = 30000;
  var METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
  var MAX_REQUESTS = 10;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }

  function button(label, extra) {
    var attributes = { type: "button", class: "button button--small run-toolbar__button" };
    Object.keys(extra || {}).forEach(function (name) {
      attributes[name] = extra[name];
    });
    return el("button", attributes, [label]);
  }

  /* A headers box is as tall as its lines, up to MAX_HEADER_ROWS; past that it scrolls. */
  var MAX_HEADER_ROWS = 6;

  function fitLines(textarea) {
    var lines = textarea.value.split("\n").length;
    textarea.rows = Math.max(1, Math.min(MAX_HEADER_ROWS, lines));
  }

  function readRequests(block) {
    try {
      var list = JSON.parse(block.getAttribute("data-run-requests") || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  /* The requests of an app block, as editable rows. */
  function requestList(block, number) {
    var list = el("ol", { class: "run-requests__list" });
    var wrapper = el("fieldset", { class: "run-requests" }, [
      el("legend", {}, ["Requests to send"]),
      list,
    ]);
    var rows = 0;

    function addRow(request) {
      rows += 1;
      var id = "run-" + number + "-req-" + rows;
      var method = el("select", { id: id + "-method", "data-run-method": "" });
      METHODS.forEach(function (name) {
        var option = el("option", { value: name }, [name]);
        if (name === (request.method || "GET").toUpperCase()) option.selected = true;
        method.append(option);
      });
      var path = el("input", {
        id: id + "-path",
        type: "text",
        value: request.path || "/",
        maxlength: "2000",
        spellcheck: "false",
        "data-run-path": "",
      });
      // Headers before the body, as a request has them; one per line, so Enter adds one.
      var headers = el("textarea", {
        id: id + "-headers",
        class: "run-request__headers",
        rows: "1",
        wrap: "off",
        spellcheck: "false",
        autocomplete: "off",
        placeholder: "Headers (optional): Name: value",
        "data-run-headers": "",
      });
      headers.value = typeof request.headers === "string" ? request.headers : "";
      fitLines(headers);
      headers.addEventListener("input", function () {
        fitLines(headers);
      });
      var body = el("textarea", {
        id: id + "-body",
        rows: "1",
        spellcheck: "false",
        placeholder: "Body (optional): {\"json\": true} or name=value&…",
        "data-run-body": "",
      });
      body.value = request.body || "";
      var remove = button("Remove", { "aria-label": "Remove this request" });
      var item = el("li", { class: "run-request", "data-run-request": "" }, [
        el("label", { class: "visually-hidden", for: id + "-method" }, ["Method"]),
        method,
        el("label", { class: "visually-hidden", for: id + "-path" }, ["Path"]),
        path,
        el("label", { class: "visually-hidden", for: id + "-headers" }, [
          "Headers, one per line: Name: value",
        ]),
        headers,
        el("label", { class: "visually-hidden", for: id + "-body" }, ["Body"]),
        body,
        remove,
      ]);
      remove.addEventListener("click", function () {
        item.remove();
        add.disabled = list.children.length >= MAX_REQUESTS;
        add.focus();
      });
      list.append(item);
      add.disabled = list.children.length >= MAX_REQUESTS;
      return item;
    }

    var add = button("Add a request", { "data-run-add-request": "" });
    add.addEventListener("click", function () {
      addRow({ method: "GET", path: "/" }).querySelector("[data-run-path]").focus();
    });
    wrapper.append(add);
    readRequests(block).forEach(addRow);

    return {
      element: wrapper,
      values: function () {
        return Array.prototype.map.call(list.children, function (item) {
          return {
            method: item.querySelector("[data-run-method]").value,
            path: item.querySelector("[data-run-path]").value.trim(),
            headers: item.querySelector("[data-run-headers]").value,
            body: item.querySelector("[data-run-body]").value,
          };
        });
      },
    };
  }

  function setup(block, number, config) {
    var pre = block.querySelector("pre");
    if (!pre) return;
    var original = (pre.querySelector("code") || pre).textContent;
    var file = block.getAttribute("data-run-file") || "main.py";
    var isApp = block.getAttribute("data-run-kind") === "app";
    var panel = el("div", { class: "run-panel", "data-run-panel": "" });
    var toolbar = el("div", { class: "run-toolbar", role: "group", "aria-label": "Run this example" });
    var output = el("div", { class: "run-output", "aria-live": "polite", "data-run-output": "" });
    panel.append(toolbar);
    block.after(panel);

    if (!config.startUrl) {
      var signIn = el("a", { class: "run-toolbar__signin", href: config.loginUrl || "/accounts/login/" }, [
        "Sign in to run this example",
      ]);
      toolbar.append(signIn);
      return;
    }

    var runButton = button(isApp ? "Run as app" : "Run", { "data-run": "" });
    var editButton = button("Edit", { "data-run-edit": "", "aria-pressed": "false" });
    var resetButton = button("Reset", { "data-run-reset": "", disabled: "" });
    toolbar.append(runButton, editButton, resetButton);
    var requests = isApp ? requestList(block, number) : null;
    if (requests) panel.append(requests.element);
    panel.append(output);

    var editor = null;
    var textarea = null;
    var host = null;

    function currentCode() {
      if (editor) return editor.getFiles()[file];
      if (textarea) return textarea.value;
      return original;
    }

    function edited() {
      var code = currentCode();
      return code !== undefined && code !== original;
    }

    function startEditing() {
      if (!window.CourseEditor && document.readyState !== "complete") {
        // The editor is a module script that may still be loading: edit once the page has
        // loaded, in the editor if it came, else in the plain text box below.
        editButton.disabled = true;
        window.addEventListener("load", startEditing, { once: true });
        return;
      }
      host = el("div", { class: "run-editor", "data-run-editor": "" });
      pre.hidden = true;
      block.classList.add("runnable--editing");
      pre.after(host);
      // As tall as the block (a line is about 1.4rem), within bounds.
      var lines = original.split("\n").length;
      host.style.setProperty("--ce-height", Math.min(36, Math.max(10, lines * 1.4 + 4)) + "rem");
      if (window.CourseEditor) {
        var files = {};
        files[file] = original;
        editor = window.CourseEditor.mount(host, {
          files: files,
          openPath: file,
          layoutKey: null,
          onChange: function () {
            resetButton.disabled = !edited();
          },
        });
        editor.focus();
      } else {
        // The editor's bundle did not load: a plain text box still lets the reader edit.
        textarea = el("textarea", { class: "run-editor__text", spellcheck: "false", "aria-label": "Code of " + file });
        textarea.value = original;
        textarea.rows = Math.min(30, original.split("\n").length + 1);
        textarea.addEventListener("input", function () {
          resetButton.disabled = !edited();
        });
        host.append(textarea);
        textarea.focus();
      }
      editButton.setAttribute("aria-pressed", "true");
      editButton.disabled = true;
    }

    function stopEditing() {
      if (editor) editor.destroy();
      if (host) host.remove();
      editor = textarea = host = null;
      pre.hidden = false;
      block.classList.remove("runnable--editing");
      editButton.setAttribute("aria-pressed", "false");
      editButton.disabled = false;
      resetButton.disabled = true;
    }

    editButton.addEventListener("click", startEditing);
    resetButton.addEventListener("click", function () {
      stopEditing();
      output.replaceChildren();
      editButton.focus();
    });

    function say(text, kind) {
      output.replaceChildren(el("p", { class: "run-output__note run-output__note--" + kind }, [text]));
    }

    function finish() {
      runButton.disabled = false;
      panel.removeAttribute("aria-busy");
    }

    function poll(url, started) {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.status === 202) {
            if (Date.now() - started > GIVE_UP_MS) {
              say("No result after 30 seconds: the sandbox is busy or the run got lost. Try again in a moment.", "error");
              finish();
              return;
            }
            window.setTimeout(function () {
              poll(url, started);
            }, POLL_MS);
            return;
          }
          return response.text().then(function (text) {
            if (response.ok) {
              output.innerHTML = text; // our own template, every value in it escaped
            } else {
              say(text || "The result could not be read.", "error");
            }
            finish();
          });
        })
        .catch(function () {
          say("The connection to the site was lost while waiting for the result.", "error");
          finish();
        });
    }

    runButton.addEventListener("click", function () {
      var form = new FormData();
      form.append("lesson", config.lesson);
      form.append("block", block.getAttribute("data-run-block"));
      if (edited()) form.append("code", currentCode());
      if (requests) form.append("requests", JSON.stringify(requests.values()));
      runButton.disabled = true;
      panel.setAttribute("aria-busy", "true");
      say(isApp ? "Starting the app…" : "Running…", "pending");
      fetch(config.startUrl, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "X-CSRFToken": config.csrf },
      })
        .then(function (response) {
          if (response.status === 202) {
            return response.json().then(function (data) {
              poll(data.result_url, Date.now());
            });
          }
          return response.text().then(function (text) {
            say(text || "The run could not start (" + response.status + ").", "error");
            finish();
          });
        })
        .catch(function () {
          say("The run could not be sent: check your connection.", "error");
          finish();
        });
    });
  }

  function init() {
    var node = document.querySelector("[data-run-config]");
    if (!node) return;
    var config = {
      lesson: node.getAttribute("data-lesson"),
      startUrl: node.getAttribute("data-start-url"),
      csrf: node.getAttribute("data-csrf") || "",
      loginUrl: node.getAttribute("data-login-url"),
    };
    document.querySelectorAll("div.runnable[data-run-block]").forEach(function (block, number) {
      setup(block, number, config);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
