// MouseRI strain search: a first-party filter over the table on the page.
// It reads the same parameters the form submits (q, availability,
// background), so a search link works with or without this script; with it,
// the table narrows as you type. Nothing leaves the browser.
(function () {
  'use strict';

  var form = document.getElementById('strain-search');
  var table = document.getElementById('strains');
  var status = document.getElementById('result-count');
  if (!form || !table) {
    return;
  }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);

  function norm(s) {
    return s.toLowerCase().replace(/\s+/g, ' ').trim();
  }

  function apply() {
    var q = norm(form.elements.q.value);
    var availability = form.elements.availability.value;
    var background = form.elements.background.value;
    var shown = 0;
    rows.forEach(function (row) {
      var match = (!q || norm(row.textContent).indexOf(q) !== -1) &&
        (!availability || row.getAttribute('data-availability') === availability) &&
        (!background || row.getAttribute('data-background') === background);
      row.hidden = !match;
      if (match) {
        shown++;
      }
    });
    status.textContent = shown === 1 ? '1 strain' : shown + ' strains';
  }

  function syncURL() {
    var params = new URLSearchParams();
    ['q', 'availability', 'background'].forEach(function (name) {
      var v = form.elements[name].value;
      if (v) {
        params.set(name, v);
      }
    });
    var qs = params.toString();
    history.replaceState(null, '', window.location.pathname + (qs ? '?' + qs : ''));
  }

  // Fill the form from the address, e.g. search.html?q=Pax6
  var params = new URLSearchParams(window.location.search);
  ['q', 'availability', 'background'].forEach(function (name) {
    if (params.has(name)) {
      form.elements[name].value = params.get(name);
    }
  });

  form.addEventListener('input', function () {
    apply();
    syncURL();
  });
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    apply();
    syncURL();
  });
  form.addEventListener('reset', function () {
    // The reset happens after this event; filter once it has.
    setTimeout(function () {
      apply();
      syncURL();
    }, 0);
  });

  apply();
})();
