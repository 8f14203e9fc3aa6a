// Hamlet's app: progressive enhancement only. Every page and form works
// without this file; it adds search as you type and a live sync status.
// It holds no words of its own: the server sends them in the right
// language.
(function () {
  'use strict';

  // Search as you type: the results of the search form's GET, swapped in.
  var q = document.getElementById('q');
  var results = document.getElementById('results');
  if (q && results && window.fetch && window.URLSearchParams) {
    var form = q.form, timer = 0, seq = 0;
    var search = function () {
      var params = new URLSearchParams(new FormData(form));
      params.delete('page');
      var url = form.getAttribute('action') + '?' + params.toString();
      var mine = ++seq;
      fetch(url + '&fragment=1', { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          if (mine !== seq) { return; }
          results.innerHTML = html;
          results.setAttribute('data-q', q.value);
          history.replaceState(null, '', url);
        })
        .catch(function () { /* the form still works: Enter submits it */ });
    };
    q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 120); });
    form.querySelectorAll('select').forEach(function (s) { s.addEventListener('change', search); });
  }

  // Live sync status: the header's pill on every page, the whole status
  // box on the sync page.
  var pill = document.getElementById('sync-pill');
  if (!pill || !window.fetch) { return; }
  var box = document.getElementById('sync-status');
  var set = function (id, text) { var el = document.getElementById(id); if (el && el.textContent !== text) { el.textContent = text; } };
  var show = function (id, on) { var el = document.getElementById(id); if (el) { el.hidden = !on; } };
  var poll = function () {
    fetch('/sync/status', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        pill.textContent = s.text;
        pill.className = 'pill pill-' + s.class;
        if (box) {
          var st = document.getElementById('sync-state');
          st.textContent = s.text;
          st.className = 'state state-' + s.class;
          st.setAttribute('data-class', s.class);
          set('sync-detail', s.detail);
          set('pending', s.pending_text);
          if (s.last_sync) { set('last-sync', s.last_sync); }
          var bar = document.getElementById('sync-progress');
          show('progress-wrap', s.busy);
          if (bar) {
            if (s.total > 0) { bar.max = s.total; bar.value = s.done; } else { bar.removeAttribute('value'); }
          }
          set('sync-progress-text', s.progress || '');
          set('photos-text', s.photos_text || '');
          set('photos-why', s.photos_why || '');
          show('photos-waiting', s.photos_waiting > 0);
          set('sync-error', s.error || '');
          show('sync-error', !!s.error);
          document.getElementById('sync-error').className = s.class === 'stopped' ? 'error' : 'hint';
          // A sync refused for the laptop's token while the page was open
          // asks to enroll again: the button the message points at comes
          // with it (not for a damaged file or a full disk).
          show('enroll-again', !!s.enroll_again);
          var changed = String(s.rejected) !== box.getAttribute('data-rejected') || String(s.conflicts) !== box.getAttribute('data-conflicts') ||
            String(s.notices) !== box.getAttribute('data-notices');
          show('reload-hint', changed);
        }
      })
      .catch(function () { /* the app itself stopped: the page stays as it is */ })
      .then(function () { setTimeout(poll, box ? 1000 : 4000); });
  };
  setTimeout(poll, box ? 500 : 2000);
}());
