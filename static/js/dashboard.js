/* The live dashboard's connection state: while its websocket is open the page is live and the
   polling fallback (#dashboard-poll, every 5 s) is cancelled here; when it closes, polling resumes
   until the htmx ws extension has reconnected. (Not an hx-trigger filter: htmx evaluates those
   with eval, which the Content-Security-Policy forbids.) */
(function () {
  "use strict";
  window.hiveLive = false;

  function show(text, live) {
    var badge = document.getElementById("live-status");
    if (badge) {
      badge.textContent = text;
      badge.dataset.live = live ? "1" : "0";
    }
  }

  document.addEventListener("htmx:wsOpen", function () {
    window.hiveLive = true;
    show("live", true);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (window.hiveLive && event.target && event.target.id === "dashboard-poll") {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:wsClose", function () {
    window.hiveLive = false;
    show("reconnecting… (refreshing every 5 s)", false);
  });
})();
