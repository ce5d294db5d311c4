/* Quiz questions in lessons.

   Each question is a plain form that htmx posts to the server, which answers with the
   feedback (right or not, and the explanations) for the question's feedback box. This file
   sends the CSRF token with it (the cached page of an anonymous reader has none, and then
   needs none), and wires the "Try again" button: it clears the answer and the feedback. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function quizOf(element) {
    return element && element.closest ? element.closest("form[data-quiz]") : null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (!quizOf(event.detail.elt)) return;
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var form = quizOf(event.detail.target);
    if (!form) return;
    var result = form.querySelector("[data-quiz-result]");
    var state = result ? result.getAttribute("data-quiz-result") : "";
    form.setAttribute("data-answered", state);
    var reset = form.querySelector(".quiz__reset");
    if (reset) reset.hidden = state !== "right" && state !== "wrong";
  });

  document.addEventListener("reset", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-quiz]")) return;
    var feedback = form.querySelector(".quiz__feedback");
    if (feedback) feedback.textContent = "";
    form.removeAttribute("data-answered");
    var reset = form.querySelector(".quiz__reset");
    if (reset) reset.hidden = true;
    // After the browser has cleared the inputs, put the reader back at the first one.
    window.setTimeout(function () {
      var first = form.querySelector("input");
      if (first) first.focus();
    }, 0);
  });
})();
