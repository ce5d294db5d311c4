/* The live console on the exercise page: "Start my app" sends the editor's current files
   (read from the editor, see exercise.js: host.currentWork) to the server, which starts
   them in the sandbox; the console follows the app's state, counts down its time, sends the
   requests typed in the form and shows each answer as the server rendered it. Nothing here
   changes the editor's files. */
(function () {
  "use strict";

  var POLL_STARTING_MS = 1000;
  var POLL_RUNNING_MS = 5000;
  var MAX_ANSWERS = 10; // answers kept on the page, newest first

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (err) {
      return null;
    }
  }

  function csrfToken() {
    var field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function minutes(seconds) {
    var s = Math.max(0, seconds | 0);
    var rest = s % 60;
    return Math.floor(s / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function setup() {
    var root = document.querySelector("[data-live-console]");
    var config = readJson("live-config");
    if (!root || !config) return;
    var examples = readJson("live-examples") || [];
    var startButton = root.querySelector("[data-live-start]");
    var stopButton = root.querySelector("[data-live-stop]");
    var status = root.querySelector("[data-live-status]");
    var left = root.querySelector("[data-live-left]");
    var errorBox = root.querySelector("[data-live-error]");
    var failure = root.querySelector("[data-live-failure]");
    var form = root.querySelector("[data-live-form]");
    var fieldset = root.querySelector("[data-live-fieldset]");
    var method = root.querySelector("[data-live-method]");
    var path = root.querySelector("[data-live-path]");
    var headers = root.querySelector("[data-live-headers]");
    var body = root.querySelector("[data-live-body]");
    var sendButton = root.querySelector("[data-live-send]");
    var answers = root.querySelector("[data-live-answers]");
    var routes = root.querySelector("[data-live-routes]");
    var routeList = root.querySelector("[data-live-route-list]");
    var editorHost = document.getElementById("editor");

    var session = null;
    var state = "idle";
    var framework = "";
    var pollTimer = null;
    var tickTimer = null;
    var deadline = 0;
    var routesAsked = false;
    var sending = false;

    function url(template) {
      return template.replace(config.placeholder, session);
    }

    function showError(message) {
      errorBox.textContent = message || "";
    }

    function setStatus(kind, text) {
      status.setAttribute("data-state", kind);
      status.textContent = text;
    }

    function request(method, address, payload) {
      var options = {
        method: method,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      };
      if (payload !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(payload);
      }
      return window.fetch(address, options).then(
        function (response) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (json) {
              if (response.ok) return { ok: true, data: json };
              var message = json.error;
              if (!message && response.status === 403) {
                message = "You are not signed in any more. Reload the page and sign in again.";
              }
              return {
                ok: false,
                status: response.status,
                error: message || "The server could not do this (error " + response.status + "). Try again.",
              };
            });
        },
        function () {
          return { ok: false, status: 0, error: "The site could not be reached. Check your connection and try again." };
        }
      );
    }

    /* The app's state ------------------------------------------------------ */

    function tick() {
      var seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      left.textContent = minutes(seconds) + " left";
      if (seconds <= 0 && state === "running") poll();
    }

    function apply(data) {
      var previous = state;
      state = data.state;
      framework = data.framework || framework;
      var active = state === "starting" || state === "booting" || state === "running";
      startButton.disabled = false;
      stopButton.disabled = !active;
      fieldset.disabled = state !== "running" || sending;
      window.clearInterval(tickTimer);
      if (state === "running") {
        deadline = Date.now() + (data.seconds_left || 0) * 1000;
        tick();
        tickTimer = window.setInterval(tick, 1000);
      } else {
        left.textContent = active ? "starting…" : minutes(config.lifetime) + " when started";
      }
      failure.hidden = state !== "failed";
      failure.textContent = state === "failed" ? data.message : "";
      if (state === "starting") setStatus("starting", "Waiting for a sandbox…");
      else if (state === "booting") setStatus("starting", "Starting your app…");
      else if (state === "running") setStatus("running", "Your app is running. Send it a request.");
      else if (state === "failed" && previous === "running") setStatus("failed", "Your app stopped with an error:");
      else if (state === "failed") setStatus("failed", "Your app could not be started:");
      else setStatus("stopped", data.message || "Your app has stopped.");
      if (state === "running" && previous !== "running") {
        if (framework === "fastapi" && !routesAsked) loadRoutes();
      }
      window.clearTimeout(pollTimer);
      if (active) {
        pollTimer = window.setTimeout(poll, state === "running" ? POLL_RUNNING_MS : POLL_STARTING_MS);
      }
    }

    function poll() {
      if (!session) return;
      var asked = session;
      request("GET", url(config.stateUrl)).then(function (answer) {
        if (asked !== session) return;
        if (answer.ok) {
          apply(answer.data);
        } else if (answer.status === 404) {
          apply({ state: "stopped", message: "Your app has stopped." });
        } else {
          // A passing problem (broker restarting, network): keep the state, ask again later.
          window.clearTimeout(pollTimer);
          pollTimer = window.setTimeout(poll, POLL_RUNNING_MS);
        }
      });
    }

    function start() {
      var work = editorHost && typeof editorHost.currentWork === "function" ? editorHost.currentWork() : null;
      if (!work) {
        showError("The editor is not ready yet. Wait a moment and try again.");
        return;
      }
      showError("");
      startButton.disabled = true;
      setStatus("starting", "Sending your files…");
      routesAsked = false;
      routes.hidden = true;
      routeList.innerHTML = "";
      request("POST", config.startUrl, { framework: work.framework, files: work.files }).then(function (answer) {
        if (!answer.ok) {
          showError(answer.error);
          startButton.disabled = false;
          setStatus(state === "running" ? "running" : "stopped", state === "running" ? status.textContent : "Not running.");
          return;
        }
        session = answer.data.session;
        apply(answer.data);
      });
    }

    function stop() {
      if (!session) return;
      stopButton.disabled = true;
      request("POST", url(config.stopUrl), {}).then(function (answer) {
        if (answer.ok) {
          apply(answer.data);
        } else {
          showError(answer.error);
          stopButton.disabled = false;
        }
      });
    }

    /* Requests -------------------------------------------------------------- */

    function fill(example) {
      method.value = example.method;
      path.value = example.path;
      headers.value = example.headers || "";
      body.value = example.body || "";
      if (example.headers || example.body) root.querySelector(".live-console__more").open = true;
      path.focus();
    }

    function send(event) {
      event.preventDefault();
      if (state !== "running" || sending) return;
      showError("");
      sending = true;
      fieldset.disabled = true;
      sendButton.textContent = "Sending…";
      var payload = { method: method.value, path: path.value, headers: headers.value, body: body.value };
      request("POST", url(config.requestUrl), payload).then(function (answer) {
        sending = false;
        sendButton.textContent = "Send";
        fieldset.disabled = state !== "running";
        if (!answer.ok) {
          showError(answer.error);
          if (answer.status === 400) poll(); // the app may have stopped meanwhile
          return;
        }
        var holder = document.createElement("div");
        holder.innerHTML = answer.data.html;
        var article = holder.firstElementChild;
        if (!article) return;
        answers.insertBefore(article, answers.firstChild);
        while (answers.children.length > MAX_ANSWERS) answers.removeChild(answers.lastChild);
      });
    }

    function chip(label, onClick) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "live-console__chip";
      button.textContent = label;
      button.addEventListener("click", onClick);
      li.appendChild(button);
      return li;
    }

    function loadRoutes() {
      routesAsked = true;
      request("POST", url(config.routesUrl), {}).then(function (answer) {
        if (!answer.ok || !answer.data.routes || !answer.data.routes.length) return;
        routeList.innerHTML = "";
        answer.data.routes.forEach(function (route) {
          routeList.appendChild(
            chip(route.method + " " + route.path, function () {
              fill({ method: route.method, path: route.path, headers: "", body: "" });
            })
          );
        });
        var note = routes.querySelector("[data-live-routes-note]");
        if (note) note.hidden = answer.data.complete !== false;
        routes.hidden = false;
      });
    }

    root.querySelectorAll("[data-live-example]").forEach(function (button) {
      button.addEventListener("click", function () {
        var example = examples[parseInt(button.getAttribute("data-live-example"), 10)];
        if (example) fill(example);
      });
    });
    startButton.addEventListener("click", start);
    stopButton.addEventListener("click", stop);
    form.addEventListener("submit", send);
    // Ctrl+Enter in the headers or body sends, as Enter does in the path.
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
        send(event);
      }
    });

    startButton.disabled = false;
    if (config.current) {
      session = config.current.session;
      apply(config.current);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
