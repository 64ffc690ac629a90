// Keeps the conversation current without a reload: polls the thread's list (a server-rendered
// fragment) and swaps it in only when its version changed, so the reader's place and the
// reply being typed are kept. The fragment is parsed as HTML the server escaped; the
// Content-Security-Policy forbids inline script, and the fragment carries none.
(function () {
  "use strict";
  var INTERVAL = 3000;
  var holder = document.querySelector("[data-thread-url]");
  if (!holder) return;
  var url = holder.getAttribute("data-thread-url");

  function current() {
    return holder.querySelector(".thread");
  }

  function poll() {
    var visible = document.visibilityState === "visible" ? "1" : "0";
    fetch(url + "?visible=" + visible, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var incoming = new DOMParser().parseFromString(html, "text/html").querySelector(".thread");
        var shown = current();
        if (!incoming || !shown) return;
        if (incoming.getAttribute("data-version") === shown.getAttribute("data-version")) return;
        var known = shown.children.length;
        var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        shown.replaceWith(document.importNode(incoming, true));
        var items = current().children;
        for (var i = known; i < items.length; i++) items[i].classList.add("arrived");
        if (atBottom && items.length > known) items[items.length - 1].scrollIntoView({ block: "nearest" });
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, INTERVAL); });
  }

  window.setTimeout(poll, INTERVAL);
})();
