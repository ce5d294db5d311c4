/* The instructor area: keep the focus on a moved or published item when htmx swaps the
   outline, say what changed, copy the invitation link, and bring a form's error into view. */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("live-status");
    if (region && text) {
      region.textContent = "";
      window.setTimeout(function () {
        region.textContent = text;
      }, 50);
    }
  }

  function refocus(outline) {
    var changed = outline.getAttribute("data-changed");
    var item = changed && document.getElementById(changed);
    if (!item) return;
    var direction = outline.getAttribute("data-direction");
    var row = item.matches(".teach-row") ? item : item.querySelector(".teach-row");
    var candidates = direction
      ? ['[data-move="' + direction + '"]', "[data-move]"]
      : ["[data-status]"];
    for (var i = 0; i < candidates.length; i++) {
      var buttons = row.querySelectorAll(candidates[i]);
      for (var j = 0; j < buttons.length; j++) {
        if (!buttons[j].disabled) {
          buttons[j].focus();
          return;
        }
      }
    }
    item.focus();
  }

  document.addEventListener("htmx:afterSwap", function () {
    var outline = document.getElementById("outline");
    if (!outline) return;
    refocus(outline);
    announce(outline.getAttribute("data-announce"));
  });

  function copyLink(button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) return;
    var done = function () {
      button.textContent = "Copied!";
      announce("Invitation link copied to the clipboard.");
    };
    var failed = function () {
      field.select();
      announce("Could not copy. The link is selected: press Control+C or Command+C.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      field.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (err) {
        ok = false;
      }
      (ok ? done : failed)();
    }
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copyLink(button);
      });
    });
    var invalid = document.querySelector('.teach-form [aria-invalid="true"]');
    if (invalid) invalid.focus();
  });
})();
