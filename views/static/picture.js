// The picture page's live part: follows the sign-in's event stream, swaps in new pictures,
// runs the countdown, and moves on when a verdict arrives. Without this script the page still
// works: it reloads itself and the server shows the newest state.
(function () {
  'use strict';
  var root = document.getElementById('sign-in');
  if (!root || !window.EventSource) return;
  var picture = document.getElementById('picture');
  var seconds = document.getElementById('seconds');
  var status = document.getElementById('status');
  var announcer = document.getElementById('announcer');
  var seq = Number(root.getAttribute('data-seq'));
  var endsAt = Date.now() + Number(root.getAttribute('data-remaining'));
  var announced = {};
  // Messages come from the page, already in its language.
  var messages = {
    waiting: status.textContent,
    newPicture: root.getAttribute('data-msg-new-picture'),
    approved: root.getAttribute('data-msg-approved'),
    seconds: root.getAttribute('data-msg-seconds'),
    reconnecting: root.getAttribute('data-msg-reconnecting'),
  };

  function tick() {
    // A social network sign-in shows no picture and so no countdown.
    if (!seconds) return;
    var left = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
    seconds.textContent = String(left);
    // Screen readers hear the countdown at a few moments only, not every second, through a
    // region of its own so the visible status and the visible countdown never disagree.
    if ((left === 10 || left === 5) && !announced[seq + ':' + left]) {
      announced[seq + ':' + left] = true;
      announcer.textContent = messages.seconds.replace('{seconds}', String(left));
    }
  }
  var timer = setInterval(tick, 250);
  tick();

  var events = new EventSource(root.getAttribute('data-events'));
  events.addEventListener('error', function () {
    // The browser reconnects by itself; until then the person should know nothing is arriving.
    if (events.readyState !== EventSource.CLOSED) status.textContent = messages.reconnecting;
  });
  events.addEventListener('state', function (event) {
    var state = JSON.parse(event.data);
    if (state.status === 'waiting') {
      endsAt = Date.now() + state.remainingMs;
      if (state.pictureSeq !== seq && picture) {
        seq = state.pictureSeq;
        picture.src = state.picture;
        status.textContent = messages.newPicture;
      } else if (status.textContent === messages.reconnecting) {
        status.textContent = messages.waiting;
      }
      tick();
      return;
    }
    events.close();
    clearInterval(timer);
    if (state.status === 'approved') {
      status.textContent = messages.approved;
      window.location.assign(state.next);
    } else {
      // Refused or expired: the server renders the outcome and the way forward.
      window.location.reload();
    }
  });
})();
