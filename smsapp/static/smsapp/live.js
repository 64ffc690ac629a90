// Keeps a conversation page current without a reload: polls a server-rendered fragment (the
// thread, or the list of conversations) and swaps it in only when its version changed, so the
// reader's place and the reply being typed are kept. The fragment is HTML the server escaped;
// the Content-Security-Policy forbids inline script, and the fragment carries none.
(function () {
  "use strict";
  var INTERVAL = 3000;
  var holder = document.querySelector("[data-live-url]");
  if (!holder) return;
  var url = holder.getAttribute("data-live-url");

  function shown() {
    return holder.querySelector("[data-version]");
  }

  function poll() {
    // Texts that arrive while the thread is in front of someone count as read.
    var visible = document.visibilityState === "visible" ? "1" : "0";
    var sep = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + sep + "visible=" + visible, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var incoming = new DOMParser().parseFromString(html, "text/html").querySelector("[data-version]");
        var current = shown();
        if (!incoming || !current) return;
        if (incoming.getAttribute("data-version") === current.getAttribute("data-version")) return;
        var isThread = current.classList.contains("thread");
        var known = current.children.length;
        var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        current.replaceWith(document.importNode(incoming, true));
        if (!isThread) return;
        var items = shown().children;
        for (var i = known; i < items.length; i++) items[i].classList.add("arrived");
        if (atBottom && items.length > known) items[items.length - 1].scrollIntoView({ block: "nearest" });
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, INTERVAL); });
  }

  window.setTimeout(poll, INTERVAL);
})();
