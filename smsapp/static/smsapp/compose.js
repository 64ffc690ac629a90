// Live feedback while composing: the recipients as they will be sent (parsed on the server by
// the same code that validates the form) and a segment counter computed here as on the server
// (smsapp/segments.py): GSM-7 160/153 per segment, UCS-2 70/67, extended characters count twice.
(function () {
  "use strict";
  var GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENDED = "^{}\\[~]|€\f";
  // RingCentral's limit in UTF-16 units, from the field's data-max-units (the server's
  // MAX_TEXT_UNITS), so the counter's "too long" and the form's error agree.
  var limit = 0;

  function segments(units, single, multi) {
    if (units === 0) return 0;
    return units <= single ? 1 : Math.ceil(units / multi);
  }

  // Characters as people see them, counted as smsapp/segments.py visible_characters does (so
  // the counter and the server's errors agree): a code point that only modifies or joins the
  // one before it (accents, variation selectors, skin tones, emoji tags, ZWJ and the emoji
  // after it as in 👩‍💻, the second half of a flag, the \n of \r\n) starts no new character.
  var MARK = /\p{M}/u, SYMBOL = /\p{So}/u;
  function isRegional(cp) { return cp >= 0x1F1E6 && cp <= 0x1F1FF; }
  function visibleCharacters(text) {
    var n = 0, previous = -1, flagOpen = false;
    for (var ch of text) {  // by code point: 🎉 is one, not two UTF-16 units
      var cp = ch.codePointAt(0), regional = isRegional(cp);
      var continues = n > 0 && ((previous === 0x200D && SYMBOL.test(ch)) || cp === 0x200D ||
        (previous === 0x0D && cp === 0x0A) || MARK.test(ch) ||
        (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F) ||
        (regional && flagOpen));
      if (!continues) n += 1;
      flagOpen = regional && !(continues && flagOpen);
      previous = cp;
    }
    return n;
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
    var info = { encoding: "UCS-2", units: units, segments: segments(units, 70, 67), forcing: forcing,
                 characters: visibleCharacters(text) };
    if (forcing.length === 0) {
      info.encoding = "GSM-7";
      info.segments = segments(septets, 160, 153);
    }
    return info;
  }

  var NAMES = { "\u00a0": "non-breaking space", "\u200d": "zero-width joiner", "\ufe0f": "emoji style" };
  function describe(ch) {
    // The code point, not the first UTF-16 unit: 🎉 is U+1F389 (at least four hex digits).
    var code = ch.codePointAt(0).toString(16).toUpperCase();
    while (code.length < 4) code = "0" + code;
    if (NAMES[ch]) return NAMES[ch] + " (U+" + code + ")";
    return "“" + ch + "” (U+" + code + ")";
  }

  function showCounter(text, counter) {
    var info = count(text);
    // What people see first; RingCentral's budget in UTF-16 units beside it when it differs
    // (emoji and some symbols take two units: 26 characters can be 27 of the 1000).
    var size = info.characters === info.units
      ? "<strong>" + info.units + "</strong> / " + limit + " characters"
      : "<strong>" + info.characters + "</strong> " + (info.characters === 1 ? "character" : "characters") +
        " (" + info.units + " of " + limit + " units)";
    var parts = [size, info.encoding, info.segments + (info.segments === 1 ? " segment" : " segments")];
    var html = parts.join(" · ");
    if (info.units > limit) html += ' · <span class="warn">too long</span>';
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

  // The note names the zone the server read this page in (the person's setting, else the
  // tz cookie). Without a setting, the Send that follows is read in the zone app.js has just
  // written to the cookie: if that differs (a first visit, a laptop that travelled), say so.
  function showZone(note) {
    if (!note || note.dataset.source === "setting") return;
    var browser;
    try { browser = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!browser || browser === note.dataset.zone) return;
    note.querySelector(".tz-name").textContent = browser;
    note.querySelector(".tz-source").textContent = ", your browser's time zone";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose");
    if (!form) return;
    var to = form.elements.to, text = form.elements.text;
    limit = Number(text.dataset.maxUnits);
    var counter = document.getElementById("counter"), box = document.getElementById("recipients");
    showZone(document.getElementById("tz-note"));
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
