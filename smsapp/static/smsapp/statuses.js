// Keeps the statuses and reasons on the page current, and on the history's first page adds
// the texts created since it loaded (by other senders, or by send_sms) at the top. It polls a
// small JSON endpoint (status.json). Nodes are built with textContent only: the data is what
// people typed, and the Content-Security-Policy allows no inline script to fall back on.
// Which statuses are final is the server's to say (Message.terminal): the page renders it as
// data-terminal and every answer carries it as "terminal", so no list of statuses lives here.
(function () {
  "use strict";
  var INTERVAL = 3000;

  function statusOf(el) {
    var match = /(?:^|\s)status-(\w+)/.exec(el.className);
    return match ? match[1] : "";
  }

  function setStatus(el, now) {
    el.className = "status status-" + now.status;
    el.textContent = now.label;
    el.toggleAttribute("data-terminal", !!now.terminal);
  }

  // The row shows the reason's first sentence; the tooltip has all of it.
  function setReason(el, row) {
    el.textContent = row.reason || "";
    el.title = row.reason_full || "";
    el.hidden = !row.reason;
  }

  function reasonElement(id) {
    // Ids come from the page or the server and are digits: safe inside a selector.
    return document.querySelector('[data-reason-for="' + id + '"]');
  }

  function cell(className) {
    var td = document.createElement("td");
    td.className = className;
    return td;
  }

  // The same row as templates/smsapp/history.html renders, from the same data
  // (smsapp.selectors.history_rows).
  function buildRow(row) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-message-id", row.id);
    tr.className = "arrived";

    var created = cell("created");
    var link = document.createElement("a");
    link.href = row.url;
    var time = document.createElement("time");
    time.dateTime = row.created_iso;
    time.textContent = row.created;
    link.appendChild(time);
    created.appendChild(link);
    if (row.scheduled_for) {
      var when = document.createElement("small");
      when.className = "when";
      when.textContent = "for " + row.scheduled_for;
      created.appendChild(document.createTextNode(" "));
      created.appendChild(when);
    }

    var to = cell("to");
    var conversation = document.createElement("a");
    conversation.href = row.conversation_url;
    conversation.title = "Conversation with " + row.to;
    conversation.textContent = row.to;
    to.appendChild(conversation);
    var text = cell("text");
    text.textContent = row.text;

    var state = cell("state");
    var status = document.createElement("span");
    status.setAttribute("data-status-for", row.id);
    setStatus(status, row);
    var reason = document.createElement("small");
    reason.className = "reason";
    reason.setAttribute("data-reason-for", row.id);
    setReason(reason, row);
    state.appendChild(status);
    state.appendChild(document.createTextNode(" "));
    state.appendChild(reason);

    var by = cell("by");
    by.textContent = row.sent_by;

    [created, to, text, state, by].forEach(function (td) { tr.appendChild(td); });
    return tr;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.querySelector("[data-status-url]");
    if (!holder) return;
    var reload = holder.hasAttribute("data-reload-on-change");
    var history = holder.hasAttribute("data-history-rows");
    var live = history && holder.hasAttribute("data-live-after");
    var after = live ? holder.getAttribute("data-live-after") : null;
    var filters = holder.getAttribute("data-filter-query") || "";
    var tbody = holder.querySelector("tbody");
    var note = document.querySelector("[data-live-note]");

    function pending() {
      return Array.prototype.filter.call(document.querySelectorAll("[data-status-for]"), function (el) {
        return !el.hasAttribute("data-terminal");
      });
    }

    function address(ids) {
      // The page's filters first, so its own ids and after always win over a stray one there.
      var query = live ? filters + (filters ? "&" : "") : "";
      query += "ids=" + ids.join(",");
      if (history) query += "&view=history";
      if (live) query += "&after=" + encodeURIComponent(after);
      return holder.getAttribute("data-status-url") + "?" + query;
    }

    // Detail page: any change of status or reason reloads it (the timeline grows too).
    function changedHere(els, data) {
      return els.some(function (el) {
        var now = data.messages[el.getAttribute("data-status-for")];
        if (!now) return false;
        var reason = reasonElement(el.getAttribute("data-status-for"));
        var shown = reason ? reason.textContent.trim() : "";
        return statusOf(el) !== now.status || shown !== (now.error || "").trim();
      });
    }

    function update(els, data) {
      var rows = data.rows || {};
      els.forEach(function (el) {
        var id = el.getAttribute("data-status-for");
        var now = rows[id] || data.messages[id];
        if (!now) return;
        if (statusOf(el) !== now.status || el.textContent !== now.label ||
            el.hasAttribute("data-terminal") !== !!now.terminal) setStatus(el, now);
        var reason = reasonElement(id);
        if (reason && rows[id] && reason.title !== (rows[id].reason_full || "")) {
          setReason(reason, rows[id]);
        }
      });
    }

    function addNew(rows) {
      var added = 0;
      // Newest first from the server: insert the oldest first, each at the top.
      rows.slice().reverse().forEach(function (row) {
        if (tbody.querySelector('tr[data-message-id="' + row.id + '"]')) return;
        tbody.insertBefore(buildRow(row), tbody.firstChild);
        added += 1;
      });
      if (!added) return;
      var wrap = document.querySelector("[data-history]");
      if (wrap) wrap.hidden = false;
      var empty = document.querySelector("[data-empty]");
      if (empty) empty.hidden = true;
      if (note) note.textContent = added + (added === 1 ? " new text" : " new texts") + " added at the top.";
    }

    function later(wait) {
      setTimeout(function () {
        if (!document.hidden) { poll(); return; }
        // A hidden tab asks nothing; it catches up as soon as it is shown again.
        document.addEventListener("visibilitychange", function shown() {
          if (document.hidden) return;
          document.removeEventListener("visibilitychange", shown);
          poll();
        });
      }, wait);
    }

    function poll() {
      var els = pending();
      if (!els.length && !live) return;
      var ids = els.map(function (el) { return el.getAttribute("data-status-for"); });
      fetch(address(ids), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { later(INTERVAL * 3); return; }
          if (reload) {
            if (changedHere(els, data)) { window.location.reload(); return; }
          } else {
            update(els, data);
            if (live && data.new) addNew(data.new);
            if (live && data.after !== undefined) after = data.after;
          }
          later(INTERVAL);
        })
        .catch(function () { later(INTERVAL * 3); });
    }
    later(INTERVAL);
  });
})();
