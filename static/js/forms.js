/* Buttons that say a form is on its way: a submit button with data-busy-text (or data-busy) is
   disabled once its form is submitted, so a second click cannot send it twice, and shows the busy
   text. Replaces inline onclick handlers, which the Content-Security-Policy forbids. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.hasAttribute("data-busy")) {
      return;
    }
    // After the browser has read the form (the button's own name/value included), not before.
    window.setTimeout(function () {
      button.disabled = true;
      var text = button.getAttribute("data-busy-text");
      if (text) {
        button.textContent = text;
      }
    }, 0);
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
})();
