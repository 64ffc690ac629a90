// Keeps the statuses on the page current: polls a small JSON endpoint while anything on the
// page can still change, and stops when everything has settled.
(function () {
  "use strict";
  var SETTLED = ["delivered", "failed", "canceled"];
  var INTERVAL = 3000;

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.querySelector("[data-status-url]");
    if (!holder) return;
    var reload = holder.hasAttribute("data-reload-on-change");
    function pending() {
      return Array.prototype.filter.call(document.querySelectorAll("[data-status-for]"), function (el) {
        return SETTLED.indexOf(el.className.replace(/.*status-(\w+).*/, "$1")) < 0;
      });
    }
    function poll() {
      var els = pending();
      if (!els.length) return;
      var ids = els.map(function (el) { return el.dataset.statusFor; });
      fetch(holder.dataset.statusUrl + "?ids=" + ids.join(","), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var changed = false;
          els.forEach(function (el) {
            var now = data.messages[el.dataset.statusFor];
            if (!now || el.className.indexOf("status-" + now.status) >= 0) return;
            el.className = "status status-" + now.status;
            el.textContent = now.label;
            changed = true;
          });
          if (changed && reload) { window.location.reload(); return; }
          setTimeout(poll, INTERVAL);
        })
        .catch(function () { setTimeout(poll, INTERVAL * 3); });
    }
    setTimeout(poll, INTERVAL);
  });
})();
