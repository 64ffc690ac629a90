// Every page: tells the server the browser's time zone, sends each form once, and puts the
// keyboard on the first field in error. A static file: the CSP refuses inline scripts.
(function () {
  "use strict";

  // Times show (and "Send at" is read) in this zone unless the person picked one on "Your
  // settings". Encoded ("America%2FNew_York"); the server decodes it (smsapp/middleware.py).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax; max-age=31536000";
  } catch (e) { /* old browser: times stay in the server's zone */ }

  // <form data-submit-once>: a second submit while the first is on its way is dropped and the
  // buttons show as busy. The server does not rely on this (the form's idempotency key makes a
  // repeat harmless); it spares people a confusing second page load.
  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      form.setAttribute("aria-busy", "true");
      var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
      // Disabled a moment later, not now: a button disabled during its own click is left out
      // of the posted data, and the confirmation page tells Confirm from Back by it.
      setTimeout(function () {
        for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      }, 0);
    });
  }

  // Back to a page kept in the browser's memory: the form must work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll("form[data-submit-once]");
    for (var i = 0; i < forms.length; i++) {
      delete forms[i].dataset.submitting;
      forms[i].removeAttribute("aria-busy");
      var buttons = forms[i].querySelectorAll("button, input[type=submit]");
      for (var j = 0; j < buttons.length; j++) buttons[j].disabled = false;
    }
  });

  // After a failed submit: the first field in error (Django marks it aria-invalid), else the
  // form's own error box, so a keyboard or screen-reader user starts where the problem is.
  function focusFirstError() {
    var main = document.getElementById("main") || document.body;
    var field = main.querySelector("[aria-invalid=true]");
    if (field && typeof field.focus === "function") { field.focus(); return; }
    var box = main.querySelector(".errors[role=alert]");
    if (box) {
      if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "-1");
      box.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-submit-once]");
    for (var i = 0; i < forms.length; i++) submitOnce(forms[i]);
    focusFirstError();
  });
})();
