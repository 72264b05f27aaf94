// Live parts of a page by short polling (no framework, nothing from a CDN): an element with
// data-live-fragment="URL" and data-since="SEQ" asks URL&since=SEQ every few seconds; a 204 means
// nothing changed, a 200 is the element's new content (server-rendered, escaped HTML) and its
// X-Last-Sequence header the new SEQ.
(function () {
  "use strict";
  var PERIOD_MS = 2000;

  function poll(el) {
    var url = el.getAttribute("data-live-fragment");
    url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(el.getAttribute("data-since") || "0");
    return fetch(url, { cache: "no-store" }).then(function (resp) {
      if (resp.status !== 200) return;
      var since = resp.headers.get("X-Last-Sequence");
      return resp.text().then(function (html) {
        el.innerHTML = html;
        if (since !== null) el.setAttribute("data-since", since);
      });
    });
  }

  function tick() {
    if (document.hidden) return Promise.resolve();
    var live = document.querySelectorAll("[data-live-fragment]");
    return Promise.all(Array.prototype.map.call(live, poll)).catch(function () { /* away: later */ });
  }

  function loop() {
    tick().then(function () { setTimeout(loop, PERIOD_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () { setTimeout(loop, PERIOD_MS); });
})();
