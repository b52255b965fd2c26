// Small progressive enhancements shared by every page. The pages work
// without this file; it only adds conveniences.
(function () {
  'use strict';

  // <p data-focus-on-load tabindex="-1">: a page sent back with a refused
  // action opens on its message, wherever the form is on the page.
  var problem = document.querySelector('[data-focus-on-load]');
  if (problem) problem.focus();

  // <form data-keep-on-switch id="…">: what was typed into the form survives
  // the language switch (a plain link, which would load the page empty).
  // Kept in this tab's sessionStorage only from the click until the page in
  // the other language has put it back. Chosen files cannot be kept: a
  // <p data-files-again hidden> in the form is shown instead when there were some.
  // Kept under the address the switch leads to (a page sent back by a form's
  // POST switches to its own page's address), taken back at that address.
  var keepKey = function (form, path) {
    return 'keep:' + (path || location.pathname) + '#' + form.id;
  };
  // Never a password.
  var keptFields = function (form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== '_csrf' && ['file', 'submit', 'button', 'password'].indexOf(el.type) < 0;
    });
  };
  var keepForms = document.querySelectorAll('form[data-keep-on-switch][id]');
  try {
    Array.prototype.forEach.call(keepForms, function (form) {
      var saved = window.sessionStorage.getItem(keepKey(form));
      if (saved === null) return;
      window.sessionStorage.removeItem(keepKey(form));
      var values = JSON.parse(saved);
      keptFields(form).forEach(function (el) {
        var key = el.type === 'radio' ? el.name + '=' + el.value : el.name;
        if (!(key in values)) return;
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = values[key] === true;
        // What was typed replaces what the page starts with (a new call's id, its time); the page's
        // hidden state only where it has none (a place picked on the map).
        else if (el.type !== 'hidden' || el.value === '') el.value = values[key];
      });
      // Files were chosen before the switch: the page says they must be chosen again (<p data-files-again hidden>).
      var again = values['#files'] === true ? form.querySelector('[data-files-again]') : null;
      if (again) again.hidden = false;
    });
    var switcher = document.querySelector('header.site a[hreflang]');
    if (switcher && keepForms.length > 0) {
      switcher.addEventListener('click', function () {
        var to = new URL(switcher.href, location.href).pathname;
        Array.prototype.forEach.call(keepForms, function (form) {
          var values = {};
          var typed = false;
          keptFields(form).forEach(function (el) {
            if (el.type === 'checkbox' || el.type === 'radio') {
              values[el.type === 'radio' ? el.name + '=' + el.value : el.name] = el.checked;
              typed = typed || el.checked;
            } else {
              values[el.name] = el.value;
              typed = typed || el.value !== '';
            }
          });
          // Chosen files cannot come along; that there were some does, for the page to ask for them again.
          var files = Array.prototype.some.call(form.querySelectorAll('input[type=file]'), function (el) {
            return el.files && el.files.length > 0;
          });
          if (files) {
            values['#files'] = true;
            typed = true;
          }
          if (typed) window.sessionStorage.setItem(keepKey(form, to), JSON.stringify(values));
        });
      });
    }
  } catch (e) {
    // Storage switched off (private mode in some browsers): the switch loads the page empty, as without scripts.
  }

  // <input type="file" data-file-picker data-choose data-none data-many>: the
  // browser's control speaks the browser's language whatever the page's; it
  // is kept (focusable, out of sight, named by its field's label) behind a
  // button-like face saying data-choose, hidden from screen readers (the
  // input is what they use), and a line next to it says what was chosen:
  // the file's name, or data-many.
  Array.prototype.forEach.call(document.querySelectorAll('input[type=file][data-file-picker]'), function (input) {
    if (!input.id) return;
    var wrap = document.createElement('span');
    wrap.className = 'file-picker';
    var face = document.createElement('span');
    face.className = 'button secondary';
    face.setAttribute('data-file-face', '');
    face.setAttribute('aria-hidden', 'true');
    face.textContent = input.getAttribute('data-choose');
    face.addEventListener('click', function () {
      input.click();
    });
    var chosen = document.createElement('span');
    chosen.className = 'file-chosen hint';
    chosen.id = input.id + '-chosen';
    chosen.setAttribute('aria-live', 'polite');
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(face);
    wrap.appendChild(chosen);
    var described = input.getAttribute('aria-describedby');
    input.setAttribute('aria-describedby', (described ? described + ' ' : '') + chosen.id);
    var show = function () {
      var files = input.files || [];
      chosen.textContent =
        files.length === 0 ? input.getAttribute('data-none') : files.length === 1 ? files[0].name : input.getAttribute('data-many').replace('{n}', String(files.length));
    };
    input.addEventListener('change', show);
    show();
  });

  // <button data-confirm="…">: ask before an action that cannot be undone.
  // A form the browser will refuse to send (a required field left empty)
  // is not asked about: the browser says what is missing first. Such a
  // form also has a box to tick (<div data-confirm-box> around <input
  // data-confirm-tick required>), which asks the same without scripts and
  // which the server checks: the question replaces it, so it is hidden
  // here (unless the page came back saying it was not ticked) and ticked
  // when the question is accepted.
  Array.prototype.forEach.call(document.querySelectorAll('[data-confirm-box]'), function (box) {
    var tick = box.querySelector('input[data-confirm-tick]');
    if (!tick || tick.getAttribute('aria-invalid') === 'true') return;
    tick.required = false;
    box.hidden = true;
  });
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-confirm]') : null;
    if (!target) return;
    var form = target.form;
    var checked = form && !form.noValidate && !target.formNoValidate && typeof form.checkValidity === 'function';
    if (checked && !form.checkValidity()) return;
    var tick = form ? form.querySelector('input[data-confirm-tick]') : null;
    var box = tick ? tick.closest('[data-confirm-box]') : null;
    // A box left in sight is the question itself: ticked (the browser asks for it otherwise), it is answered.
    if (box && !box.hidden) return;
    var yes = window.confirm(target.getAttribute('data-confirm'));
    if (tick) tick.checked = yes;
    if (!yes) event.preventDefault();
  });

  // Whether a point lies inside a box written "south,west,north,east" (any point, when there is no box).
  var withinBounds = function (box, lat, lng) {
    var b = (box || '').split(',').map(Number);
    if (b.length !== 4 || b.some(function (n) { return !isFinite(n); })) return true;
    return lat >= b[0] && lat <= b[2] && lng >= b[1] && lng <= b[3];
  };

  // <button data-geolocate data-lat="#lat" data-lng="#lng" data-status="#geo-status">:
  // fill the hidden coordinate fields from the device's position.
  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('[data-geolocate]') : null;
    if (!button) return;
    event.preventDefault();
    var status = document.querySelector(button.getAttribute('data-status'));
    if (!navigator.geolocation) {
      if (status) status.textContent = button.getAttribute('data-unavailable') || '';
      return;
    }
    if (status) status.textContent = button.getAttribute('data-pending') || '';
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var lat = document.querySelector(button.getAttribute('data-lat'));
        var lng = document.querySelector(button.getAttribute('data-lng'));
        // data-bounds="south,west,north,east": a position outside is not taken (the resident is away from the place);
        // the status says so, and a location recorded before (a pin) stays, said after it.
        if (!withinBounds(button.getAttribute('data-bounds'), pos.coords.latitude, pos.coords.longitude)) {
          if (status) {
            var kept = lat && lng && lat.value && lng.value ? ' ' + (status.getAttribute('data-recorded') || '') + ' ' + lat.value + ', ' + lng.value : '';
            status.textContent = (button.getAttribute('data-outside') || '') + kept;
          }
          return;
        }
        if (lat) lat.value = pos.coords.latitude.toFixed(6);
        if (lng) lng.value = pos.coords.longitude.toFixed(6);
        if (status) status.textContent = (button.getAttribute('data-done') || '') + ' ' + pos.coords.latitude.toFixed(5) + ', ' + pos.coords.longitude.toFixed(5);
        button.dispatchEvent(new CustomEvent('located', { bubbles: true, detail: { lat: pos.coords.latitude, lng: pos.coords.longitude } }));
      },
      function () {
        if (status) status.textContent = button.getAttribute('data-unavailable') || '';
      },
      { enableHighAccuracy: true, timeout: 10000 },
    );
  });
})();
