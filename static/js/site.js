/* Behaviour for the course pages: theme toggle, course menu on small screens,
   copy buttons on code, framework tabs that follow the reader's choice,
   scrollable tables and the "on this page" highlight.
   Every page works without this file; it only adds comfort.
   Rendered Markdown that arrives after the page loaded (the lesson editor's live preview)
   gets the same treatment from window.courseSite.initContent(element). */
(function () {
  "use strict";

  var root = document.documentElement;

  function readStorage(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (err) {
      return null;
    }
  }

  function writeStorage(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, value);
      }
    } catch (err) {
      /* Blocked storage only means the choice is not remembered. */
    }
  }

  function announce(message) {
    var region = document.getElementById("live-status");
    if (!region) return;
    // Clearing first makes screen readers repeat an identical message.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  /* Theme ---------------------------------------------------------------- */

  function setupThemeToggle() {
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) return;
    var media = window.matchMedia("(prefers-color-scheme: dark)");

    function sync() {
      button.setAttribute("aria-pressed", String(root.getAttribute("data-theme") === "dark"));
    }

    button.hidden = false;
    sync();
    media.addEventListener("change", sync);
    button.addEventListener("click", function () {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      var system = media.matches ? "dark" : "light";
      // Choosing what the system already says means "follow the system" again.
      if (next === system) {
        root.removeAttribute("data-theme-choice");
        writeStorage("theme", null);
      } else {
        root.setAttribute("data-theme-choice", next);
        writeStorage("theme", next);
      }
      root.setAttribute("data-theme", next);
      sync();
    });
  }

  /* Course menu on narrow screens ----------------------------------------- */

  function setupCourseNav() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) return;

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("is-open", open);
    }

    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });

    // On wide screens the menu scrolls on its own: bring the current lesson into view.
    var current = nav.querySelector('[aria-current="page"]');
    if (current && nav.scrollHeight > nav.clientHeight) {
      nav.scrollTop = current.offsetTop - nav.clientHeight / 3;
    }
  }

  /* Copy buttons ---------------------------------------------------------- */

  function codeText(block) {
    var code = block.querySelector("td.code pre") || block.querySelector("pre") || block;
    return code.textContent.replace(/\n$/, "");
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP sites have no Clipboard API; fall back to a hidden selection.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (err) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  function setupCopyButtons(scope) {
    var blocks = [];
    scope.querySelectorAll(".prose div.highlight, .prose pre").forEach(function (el) {
      if (el.tagName === "PRE" && el.closest("div.highlight")) return;
      if (el.closest(".has-copy")) return; // set up already
      if (el.tagName === "PRE") {
        var wrapper = document.createElement("div");
        wrapper.className = "code-block";
        el.parentNode.insertBefore(wrapper, el);
        wrapper.appendChild(el);
        el = wrapper;
      }
      blocks.push(el);
    });

    blocks.forEach(function (block) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code");
      var timer = null;
      button.addEventListener("click", function () {
        copyText(codeText(block)).then(
          function () {
            button.textContent = "Copied!";
            button.classList.add("is-done");
            announce("Code copied to the clipboard.");
          },
          function () {
            button.textContent = "Copy failed";
            announce("Could not copy. Select the code and press Control+C or Command+C.");
          }
        );
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = "Copy";
          button.classList.remove("is-done");
        }, 2000);
      });
      block.classList.add("has-copy");
      block.appendChild(button);
    });
  }

  /* Sideways scrolling ------------------------------------------------------ */

  function overflowsSideways(element) {
    return element.scrollWidth > element.clientWidth + 1;
  }

  // Run `check(elements)` now and again shortly after each resize of the window, for as long
  // as any of the elements is still in the page (a preview replaces its content often).
  var layoutChecks = [];
  var layoutPending = null;

  function onLayout(elements, check) {
    check(elements);
    layoutChecks.push({ elements: elements, check: check });
  }

  window.addEventListener("resize", function () {
    window.clearTimeout(layoutPending);
    layoutPending = window.setTimeout(function () {
      layoutChecks = layoutChecks.filter(function (entry) {
        return entry.elements.some(function (el) {
          return el.isConnected;
        });
      });
      layoutChecks.forEach(function (entry) {
        entry.check(entry.elements);
      });
    }, 150);
  });

  // The Markdown pipeline makes every code block focusable (role and name included), so
  // that a block wider than the screen scrolls by keyboard even without this file. Blocks
  // that fit need no Tab stop of their own: they lose it until a resize makes them scroll.
  function setupCodeScrolling(scope) {
    var blocks = Array.prototype.slice.call(scope.querySelectorAll('.prose pre[role="group"]'));
    if (!blocks.length) return;
    onLayout(blocks, function (blocks) {
      blocks.forEach(function (block) {
        if (overflowsSideways(block)) {
          block.setAttribute("tabindex", "0");
        } else {
          block.removeAttribute("tabindex");
        }
      });
    });
  }

  /* Framework tabs (pymdownx.tabbed, alternate style) ---------------------- */

  var TAB_KEY = "tab-choices";
  var TAB_MEMORY = 6;

  function tabChoices() {
    try {
      var parsed = JSON.parse(readStorage(TAB_KEY) || "[]");
      return Array.isArray(parsed) ? parsed : [];
    } catch (err) {
      return [];
    }
  }

  function rememberTab(name) {
    var choices = tabChoices().filter(function (c) {
      return c !== name;
    });
    choices.unshift(name);
    writeStorage(TAB_KEY, JSON.stringify(choices.slice(0, TAB_MEMORY)));
  }

  function tabLabels(set) {
    return Array.prototype.filter.call(set.querySelectorAll(".tabbed-labels > label"), function (label) {
      return label.closest(".tabbed-set") === set;
    });
  }

  function labelName(label) {
    return label.textContent.trim();
  }

  function selectInSet(set, name) {
    var found = false;
    tabLabels(set).forEach(function (label) {
      if (!found && labelName(label) === name) {
        var input = document.getElementById(label.htmlFor);
        if (input) {
          input.checked = true;
          found = true;
        }
      }
    });
    return found;
  }

  // Preselect the reader's most recent choice that each set offers.
  function preselectTabs(scope) {
    var choices = tabChoices();
    scope.querySelectorAll(".tabbed-set").forEach(function (set) {
      choices.some(function (name) {
        return selectInSet(set, name);
      });
    });
  }

  function setupTabs() {
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.matches || !input.matches('.tabbed-set > input[type="radio"]')) return;
      var set = input.parentElement;
      var label = tabLabels(set).filter(function (l) {
        return l.htmlFor === input.id;
      })[0];
      if (!label) return;
      var name = labelName(label);
      // Sets above this one may change height; keep the clicked tab where the reader sees it.
      var before = label.getBoundingClientRect().top;
      document.querySelectorAll(".tabbed-set").forEach(function (other) {
        if (other !== set) selectInSet(other, name);
      });
      var shift = label.getBoundingClientRect().top - before;
      if (shift) window.scrollBy(0, shift);
      rememberTab(name);
    });
  }

  /* Tables ----------------------------------------------------------------- */

  function setupTables(scope) {
    var wrappers = [];
    scope.querySelectorAll(".prose table").forEach(function (table) {
      if (table.closest(".highlight")) return; // line-number tables of code blocks
      if (table.parentNode.classList.contains("table-scroll")) return; // set up already
      var wrapper = document.createElement("div");
      wrapper.className = "table-scroll";
      table.parentNode.insertBefore(wrapper, table);
      wrapper.appendChild(table);
      wrappers.push(wrapper);
    });
    if (!wrappers.length) return;

    // A table wider than the screen scrolls; make it reachable by keyboard then. Each
    // region is a landmark, so each gets a name of its own: its caption or its headings.
    function tableName(table, index) {
      var caption = table.querySelector("caption");
      if (caption && caption.textContent.trim()) return caption.textContent.trim();
      var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      }).filter(Boolean);
      return "Table " + (index + 1) + (headings.length ? " (" + headings.join(", ") + ")" : "");
    }

    onLayout(wrappers, function (wrappers) {
      wrappers.forEach(function (wrapper, index) {
        if (overflowsSideways(wrapper)) {
          wrapper.setAttribute("tabindex", "0");
          wrapper.setAttribute("role", "region");
          wrapper.setAttribute(
            "aria-label",
            tableName(wrapper.firstElementChild, index) + ", scrolls sideways"
          );
        } else {
          wrapper.removeAttribute("tabindex");
          wrapper.removeAttribute("role");
          wrapper.removeAttribute("aria-label");
        }
      });
    });
  }

  /* "On this page": highlight the section being read ------------------------ */

  function setupTocHighlight() {
    var toc = document.querySelector(".toc-aside");
    if (!toc || !("IntersectionObserver" in window)) return;
    var links = {};
    toc.querySelectorAll('a[href^="#"]').forEach(function (a) {
      links[decodeURIComponent(a.getAttribute("href").slice(1))] = a;
    });
    var headings = Array.prototype.filter.call(
      document.querySelectorAll(".prose h2[id], .prose h3[id]"),
      function (h) {
        return links[h.id];
      }
    );
    if (!headings.length) return;
    var active = null;
    var visible = new Set();

    function activate(id) {
      if (active) active.classList.remove("is-active");
      active = links[id] || null;
      if (active) active.classList.add("is-active");
    }

    var observer = new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            visible.add(entry.target);
          } else {
            visible.delete(entry.target);
          }
        });
        var first = headings.filter(function (h) {
          return visible.has(h);
        })[0];
        if (first) activate(first.id);
      },
      { rootMargin: "0px 0px -65% 0px" }
    );
    headings.forEach(function (h) {
      observer.observe(h);
    });
  }

  // "/" focuses the search box, as on GitHub and MDN, unless the reader is typing.
  function setupSearchShortcut() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      var box = document.querySelector("[data-search-shortcut]");
      if (!box) return;
      event.preventDefault();
      box.focus();
      box.select();
    });
  }

  // What rendered Markdown needs, for the page or for content put in later; safe to repeat.
  function initContent(scope) {
    setupCopyButtons(scope);
    setupCodeScrolling(scope);
    preselectTabs(scope);
    setupTables(scope);
  }

  window.courseSite = { initContent: initContent };

  function init() {
    setupSearchShortcut();
    setupThemeToggle();
    setupCourseNav();
    setupTabs();
    initContent(document);
    setupTocHighlight();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
