// The "finishing your registration" page's live part: asks the bridge every few seconds whether
// NoPass has answered, and reloads the page once it has, so the page then shows the outcome (or
// carries on to the application). Without this script the page reloads itself instead.
(function () {
  'use strict';
  var root = document.getElementById('registration-wait');
  if (!root || !window.fetch) return;
  var url = root.getAttribute('data-state');
  var every = Number(root.getAttribute('data-every')) * 1000;

  function check() {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) {
        return response.ok ? response.json() : { waiting: true };
      })
      .then(function (state) {
        if (state.waiting) setTimeout(check, every);
        else window.location.reload();
      })
      .catch(function () {
        setTimeout(check, every);
      });
  }
  setTimeout(check, every);
})();
