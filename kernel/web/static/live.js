// Live updates by short polling (no framework, no build step, nothing from a CDN).
// Every few seconds: the header's facts from /api/header, and on a live table the rows newer
// than its top row from the URL in its data-live-rows (server-rendered, escaped HTML rows).
(function () {
  "use strict";
  var PERIOD_MS = 2000;

  function setPill(id, text, cls, title) {
    var el = document.getElementById(id);
    if (!el) return;
    el.textContent = text;
    el.className = "pill " + cls;
    if (title !== undefined) {
      if (title) el.setAttribute("title", title); else el.removeAttribute("title");
    }
  }

  function header() {
    return fetch("/api/header", { cache: "no-store" }).then(function (resp) {
      if (!resp.ok) return;
      return resp.json().then(function (h) {
        var t = h.trading;
        setPill("trading-state", "trading " + t.state, "state-" + t.state.toLowerCase(),
          t.tripped_by ? "tripped by " + t.tripped_by + ": " + (t.trip_reason || "") : "");
        setPill("market-mode", "market " + h.market.mode, "mode-" + h.market.mode.toLowerCase());
        setPill("chain-status", h.chain.summary, "chain-" + h.chain.state);
      });
    });
  }

  function rows(body) {
    var top = body.querySelector("tr[data-sequence]");
    var after = top ? top.getAttribute("data-sequence") : "0";
    var url = body.getAttribute("data-live-rows");
    url += (url.indexOf("?") < 0 || url.slice(-1) === "?" ? "" : "&") + "after=" + after;
    return fetch(url, { cache: "no-store" }).then(function (resp) {
      if (!resp.ok) return;
      return resp.text().then(function (html) {
        if (!html.trim()) return;
        body.insertAdjacentHTML("afterbegin", html);
        var empty = document.getElementById("no-records");
        if (empty) empty.remove();
        var size = parseInt(body.getAttribute("data-page-size"), 10) || 50;
        var all = body.querySelectorAll("tr[data-sequence]");
        for (var i = all.length - 1; i >= size; i--) all[i].remove();
        var older = document.getElementById("older");
        var last = body.querySelector("tr[data-sequence]:last-child");
        if (older && last) {
          older.href = older.href.replace(/before=\d+/, "before=" + last.getAttribute("data-sequence"));
        }
      });
    });
  }

  function tick() {
    if (document.hidden) return Promise.resolve();
    var work = [header()];
    var body = document.querySelector("[data-live-rows]");
    if (body) work.push(rows(body));
    return Promise.all(work).catch(function () { /* the server is away: try again later */ });
  }

  function loop() {
    tick().then(function () { setTimeout(loop, PERIOD_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () { setTimeout(loop, PERIOD_MS); });
})();
