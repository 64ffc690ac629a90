// Live feedback while composing: the recipients as they will be sent (parsed on the server by
// the same code that validates the form) and a segment counter computed here as on the server
// (smsapp/segments.py): GSM-7 160/153 per segment, UCS-2 70/67, extended characters count twice.
(function () {
  "use strict";
  var GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENDED = "^{}\\[~]|€\f";
  var LIMIT = 1000;

  function segments(units, single, multi) {
    if (units === 0) return 0;
    return units <= single ? 1 : Math.ceil(units / multi);
  }

  function count(text) {
    var forcing = [];
    var septets = 0;
    for (var ch of text) {  // by code point, like Python
      if (GSM7.indexOf(ch) >= 0) septets += 1;
      else if (GSM7_EXTENDED.indexOf(ch) >= 0) septets += 2;
      else if (forcing.indexOf(ch) < 0) forcing.push(ch);
    }
    var units = text.length;  // UTF-16 code units, RingCentral's measure
    if (forcing.length === 0) {
      return { encoding: "GSM-7", units: units, segments: segments(septets, 160, 153), forcing: forcing };
    }
    return { encoding: "UCS-2", units: units, segments: segments(units, 70, 67), forcing: forcing };
  }

  function describe(ch) {
    if (ch === "\u00a0") return "non-breaking space";
    var code = ch.codePointAt(0).toString(16).toUpperCase();
    return "“" + ch + "” (U+" + ("0000" + code).slice(-4) + ")";
  }

  function showCounter(text, counter) {
    var info = count(text);
    var parts = ["<strong>" + info.units + "</strong> / " + LIMIT + " characters",
                 info.encoding, info.segments + (info.segments === 1 ? " segment" : " segments")];
    var html = parts.join(" · ");
    if (info.units > LIMIT) html += ' · <span class="warn">too long</span>';
    if (info.forcing.length) {
      html += '<br><span class="warn">UCS-2 because of: ' +
        info.forcing.slice(0, 8).map(describe).map(escapeHtml).join(", ") + "</span>";
    }
    counter.innerHTML = html;
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  // The server's answer carries the limits (SMS_MAX_RECIPIENTS, SMS_CONFIRM_RECIPIENTS_ABOVE)
  // and, when the list is over them or too long to read, the same error the form would give.
  function showRecipients(data, box, text) {
    if (data.error && !data.numbers) {  // refused unread: too long
      box.innerHTML = '<p class="field-errors">' + escapeHtml(data.error) + "</p>";
      return;
    }
    if (!data.numbers.length && !data.invalid.length) { box.innerHTML = ""; return; }
    var items = data.numbers.map(function (n) { return "<li>" + escapeHtml(n) + "</li>"; })
      .concat(data.invalid.map(function (n) { return '<li class="bad">not valid: ' + escapeHtml(n) + "</li>"; }));
    var n = data.numbers.length;
    var each = n ? count(text).segments : 0;
    var html = '<p class="help">Will be sent to ' + n + (n === 1 ? " number" : " numbers");
    if (n > 1 && each) html += ", " + each + (each === 1 ? " segment" : " segments") + " each, " + n * each + " segments in all";
    if (n > data.confirm_above && !data.error) html += " (you will be asked to confirm)";
    html += ":</p>";
    if (data.error) html += '<p class="field-errors">' + escapeHtml(data.error) + "</p>";
    box.innerHTML = html + "<ul>" + items.join("") + "</ul>";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose");
    if (!form) return;
    var to = form.elements.to, text = form.elements.text;
    var counter = document.getElementById("counter"), box = document.getElementById("recipients");
    var note = document.getElementById("tz-note");
    try { note.textContent = "Times are in your time zone (" + Intl.DateTimeFormat().resolvedOptions().timeZone + ")."; } catch (e) {}
    var timer = null, last = null;
    function preview() {
      var body = new FormData();
      body.append("to", to.value);
      body.append("text", "");
      body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
      fetch(form.dataset.previewUrl, { method: "POST", body: body, credentials: "same-origin" })
        // A 400 carries a JSON error too (a list too long to read).
        .then(function (r) { return r.ok || r.status === 400 ? r.json() : null; })
        .then(function (data) { if (data) { last = data; showRecipients(data, box, text.value); } })
        .catch(function () { /* the form still validates on submit */ });
    }
    to.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(preview, 300); });
    text.addEventListener("input", function () {
      showCounter(text.value, counter);
      if (last) showRecipients(last, box, text.value);
    });
    showCounter(text.value, counter);
    if (to.value) preview();
  });
})();
