/* The live dashboard's connection state: while its websocket is open the page is live and the
   polling fallback (hx-trigger "every 5s [!window.hiveLive]") pauses; when it closes, polling
   resumes until the htmx ws extension has reconnected. */
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
  document.addEventListener("htmx:wsClose", function () {
    window.hiveLive = false;
    show("reconnecting… (refreshing every 5 s)", false);
  });
})();
