// Tells the server the browser's time zone, so times show (and "send at" is read) in it.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax; max-age=31536000";
  } catch (e) { /* old browser: times stay in the server's zone */ }
})();
