/* Reading progress on lesson pages.

   The "Mark as read" control at the end of a lesson is a plain form (htmx swaps it in
   place when loaded). This file adds two things: the lesson is marked read on its own
   once the reader has reached its end (the control stays in view for a moment), and
   the course menu's ✓ for the current lesson follows every change. */
(function () {
  "use strict";

  var DWELL_MS = 1000; // in view this long counts as reached, not scrolled past

  function statusBox() {
    return document.querySelector("[data-read-status]");
  }

  function announce(message) {
    var region = document.getElementById("live-status");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function syncMenu(read) {
    var link = document.querySelector('#course-nav a[aria-current="page"]');
    if (!link) return;
    var mark = link.querySelector(".read-mark");
    if (read && !mark) {
      mark = document.createElement("span");
      mark.className = "read-mark";
      var tick = document.createElement("span");
      tick.setAttribute("aria-hidden", "true");
      tick.textContent = "✓";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " (read)";
      mark.append(tick, label);
      link.append(mark);
    } else if (!read && mark) {
      mark.remove();
    }
  }

  function afterChange(box, hadFocus) {
    var read = box.getAttribute("data-read") === "true";
    syncMenu(read);
    announce(read ? "Lesson marked as read." : "Lesson marked as unread.");
    if (hadFocus) {
      var button = box.querySelector("button");
      if (button) button.focus();
    }
  }

  /* Mark the lesson read without reloading the page. */
  function markRead(form) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    return window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: {
          "HX-Request": "true",
          "X-CSRFToken": token ? token.value : "",
        },
      })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        var old = statusBox();
        if (!old) return;
        var hadFocus = old.contains(document.activeElement);
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var box = holder.firstElementChild;
        box.setAttribute("data-read-status", "synced");
        old.replaceWith(box);
        if (window.htmx) window.htmx.process(box);
        afterChange(box, hadFocus);
      })
      .catch(function () {
        /* The button still works; nothing is lost if the automatic mark fails. */
      });
  }

  function watchEnd() {
    var box = statusBox();
    var form = box && box.querySelector("form[data-mark-read]");
    if (!form || !("IntersectionObserver" in window)) return null;
    var timer = null;
    var observer = new IntersectionObserver(function (entries) {
      var visible = entries.some(function (entry) {
        return entry.isIntersecting;
      });
      if (visible && timer === null) {
        timer = window.setTimeout(function () {
          observer.disconnect();
          markRead(form);
        }, DWELL_MS);
      } else if (!visible && timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
    });
    observer.observe(box);
    return {
      stop: function () {
        observer.disconnect();
        if (timer !== null) window.clearTimeout(timer);
      },
    };
  }

  function init() {
    if (!statusBox()) return;
    var watcher = watchEnd();
    var hadFocus = false;

    document.body.addEventListener("htmx:beforeRequest", function (event) {
      var box = statusBox();
      if (box && box.contains(event.target)) {
        hadFocus = box.contains(document.activeElement);
        // The reader chose: never override it with an automatic mark.
        if (watcher) watcher.stop();
      }
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      var box = statusBox();
      if (box && box.getAttribute("data-read-status") !== "synced") {
        box.setAttribute("data-read-status", "synced");
        afterChange(box, hadFocus);
        hadFocus = false;
      }
    });
    statusBox().setAttribute("data-read-status", "synced");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
