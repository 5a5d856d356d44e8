/* The live dashboard's connection state: while its websocket is open the page is live and the
   polling fallback (#dashboard-poll, every 5 s) is cancelled here; when it closes, polling resumes
   until the htmx ws extension has reconnected. (Not an hx-trigger filter: htmx evaluates those
   with eval, which the Content-Security-Policy forbids.)

   A reconnecting socket carries the page's cursor (#dash-cursor: the last event id shown and how
   many events that covers, kept current by every frame and poll) in its URL, so the server can
   send only what was missed. A socket closed with 4403 means access ended (removed, logged out,
   suspended...): the page reloads and the server says what is left. */
(function () {
  "use strict";
  var ACCESS_ENDED = 4403;
  window.hiveLive = false;

  function show(text, live) {
    var badge = document.getElementById("live-status");
    if (badge) {
      badge.textContent = text;
      badge.dataset.live = live ? "1" : "0";
    }
  }

  // htmx.createWebSocket is the ws extension's documented hook for making its sockets.
  var createWebSocket = htmx.createWebSocket;
  htmx.createWebSocket = function (url) {
    var cursor = document.getElementById("dash-cursor");
    if (cursor && cursor.dataset.last && cursor.dataset.seen) {
      var withCursor = new URL(url, window.location.href);
      withCursor.searchParams.set("last", cursor.dataset.last);
      withCursor.searchParams.set("seen", cursor.dataset.seen);
      url = withCursor.toString();
    }
    return createWebSocket(url);
  };

  document.addEventListener("htmx:wsOpen", function () {
    window.hiveLive = true;
    show("live", true);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (window.hiveLive && event.target && event.target.id === "dashboard-poll") {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:wsClose", function (event) {
    window.hiveLive = false;
    var closed = event.detail && event.detail.event;
    if (closed && closed.code === ACCESS_ENDED) {
      show("access ended", false);
      window.location.reload();
      return;
    }
    show("reconnecting… (refreshing every 5 s)", false);
  });
})();
