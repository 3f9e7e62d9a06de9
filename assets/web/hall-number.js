// A person's number page and a window's screen follow the point's live feed: on each change, fetch this page again
// and swap in its live part (server-rendered, so texts stay translated). No timed reload: nothing refreshes
// under the reader (WCAG 2.2.1); EventSource reconnects on its own.
(function () {
  "use strict";
  var live = document.querySelector("[data-live-part]");
  var url = live && (live.getAttribute("data-events") || document.body.getAttribute("data-events"));
  if (!live || !url || !("EventSource" in window)) return;
  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-live-part]");
        if (fresh) live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () { /* keep what is shown; the next event tries again */ })
      .then(function () { busy = false; });
  }
  var es = new EventSource(url);
  es.addEventListener("board", refresh);
})();
