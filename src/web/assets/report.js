// The report form's conveniences: a character counter, the "use my location"
// button, a map to drop a pin on (when the page offers tiles), and a guard
// against sending the form twice by double clicking. The form works without it.
(function () {
  'use strict';
  var form = document.getElementById('report-form');
  if (!form) return;

  // After a refused submit, move to the summary of what to correct.
  var summary = document.getElementById('form-error');
  if (summary) summary.focus();

  // Character counter: code points, as the server counts them. A screen reader hears the count once the typing
  // pauses (#text-count-said, a live region), not at every character over what is being typed.
  var text = document.getElementById('text');
  var counter = document.getElementById('text-count');
  var said = document.getElementById('text-count-said');
  if (text && counter) {
    var max = Number(text.getAttribute('data-max')) || 0;
    var template = counter.getAttribute('data-template') || '{n} / {max}';
    var pause = null;
    var update = function () {
      var n = Array.from(text.value).length;
      counter.textContent = template.replace('{n}', String(n)).replace('{max}', String(max));
      counter.classList.toggle('field-error', max > 0 && n > max);
    };
    text.addEventListener('input', function () {
      update();
      if (!said) return;
      window.clearTimeout(pause);
      pause = window.setTimeout(function () {
        said.textContent = counter.textContent;
      }, 1000);
    });
    update();
  }

  // The location button needs the Geolocation API: show it only where it exists.
  var locate = form.querySelector('[data-geolocate]');
  if (locate && navigator.geolocation) locate.hidden = false;

  var lat = document.getElementById('lat');
  var lng = document.getElementById('lng');
  var status = document.getElementById('geo-status');
  // Coordinates put back after the language switch: say so, as the server does for a form sent back.
  if (status && lat && lng && lat.value && lng.value && status.textContent === '') {
    status.textContent = (status.getAttribute('data-recorded') || '') + ' ' + lat.value + ', ' + lng.value;
  }

  // The pin on the map, when there is one, is taken away with the location (set below).
  var removePin = null;
  // A location recorded (the device's, a pin, or one sent back with the form) can be removed: taken at home for a
  // problem elsewhere, it would place the case there, as a recorded location wins over the address.
  var clear = form.querySelector('[data-clear-location]');
  var showClear = function () {
    if (clear) clear.hidden = !(lat && lng && lat.value && lng.value);
  };
  showClear();
  document.addEventListener('located', showClear);
  if (clear) {
    clear.addEventListener('click', function () {
      if (lat) lat.value = '';
      if (lng) lng.value = '';
      if (removePin) removePin();
      if (status) status.textContent = clear.getAttribute('data-cleared') || '';
      clear.hidden = true;
      // The button is gone: the focus goes to what sets a place again.
      var next = locate && !locate.hidden ? locate : document.getElementById('address');
      if (next) next.focus();
    });
  }

  // The map: Leaflet from this service, tiles from the configured server.
  var mapEl = document.getElementById('map');
  if (mapEl && window.L) {
    mapEl.hidden = false;
    var hint = document.getElementById('map-hint');
    if (hint) hint.hidden = false;
    var L = window.L;
    var center = [Number(mapEl.getAttribute('data-lat')), Number(mapEl.getAttribute('data-lng'))];
    // Leaflet's own words (the zoom buttons' titles, the pin's alt text) in the page's language, not English.
    var map = L.map(mapEl, { zoomControl: false }).setView(center, Number(mapEl.getAttribute('data-zoom')) || 13);
    L.control.zoom({ zoomInTitle: mapEl.getAttribute('data-zoom-in') || 'Zoom in', zoomOutTitle: mapEl.getAttribute('data-zoom-out') || 'Zoom out' }).addTo(map);
    // Leaflet's credit without its English tooltip.
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    L.tileLayer(mapEl.getAttribute('data-tiles'), { maxZoom: 19, attribution: mapEl.getAttribute('data-attribution') || '' }).addTo(map);
    var marker = null;
    var place = function (latlng, pan) {
      if (marker) marker.setLatLng(latlng);
      else marker = L.marker(latlng, { alt: mapEl.getAttribute('data-pin') || '' }).addTo(map);
      if (pan) map.setView(latlng, Math.max(map.getZoom(), 15));
    };
    removePin = function () {
      if (marker) map.removeLayer(marker);
      marker = null;
    };
    if (lat && lng && lat.value && lng.value) place([Number(lat.value), Number(lng.value)], true);
    // data-bounds="south,west,north,east": a pin outside the district is not taken, and the status says so.
    var box = (mapEl.getAttribute('data-bounds') || '').split(',').map(Number);
    var outside = function (latlng) {
      if (box.length !== 4 || box.some(function (n) { return !isFinite(n); })) return false;
      return !(latlng.lat >= box[0] && latlng.lat <= box[2] && latlng.lng >= box[1] && latlng.lng <= box[3]);
    };
    map.on('click', function (event) {
      if (outside(event.latlng)) {
        if (status) {
          var kept = lat && lng && lat.value && lng.value ? ' ' + (status.getAttribute('data-recorded') || '') + ' ' + lat.value + ', ' + lng.value : '';
          status.textContent = (mapEl.getAttribute('data-outside') || '') + kept;
        }
        return;
      }
      place(event.latlng, false);
      if (lat) lat.value = event.latlng.lat.toFixed(6);
      if (lng) lng.value = event.latlng.lng.toFixed(6);
      if (status) status.textContent = (status.getAttribute('data-recorded') || '') + ' ' + lat.value + ', ' + lng.value;
      showClear();
    });
    document.addEventListener('located', function (event) {
      place([event.detail.lat, event.detail.lng], true);
    });
  }

  // Too many photos, or one over the size limit: said next to the photo field before anything is sent.
  // Sent, a form over the size the service reads at all (all photos together) would be refused whole,
  // on a page without the form and what was typed in it. The server checks the same limits again.
  var photos = document.getElementById('photos');
  var camera = document.getElementById('camera');
  var clientError = null;
  var clearClientError = function () {
    if (!clientError) return;
    clientError.parentNode.removeChild(clientError);
    clientError = null;
    photos.removeAttribute('aria-invalid');
    photos.setAttribute('aria-describedby', (photos.getAttribute('aria-describedby') || '').replace(/\s*photos-error\b/, '').trim());
  };
  if (photos) {
    photos.addEventListener('change', clearClientError);
    if (camera) camera.addEventListener('change', clearClientError);
    // Each shot the camera takes joins the photos chosen so far, instead of replacing the last shot: a file input
    // holds one choice, and a phone's camera gives one photo a time. Where a browser cannot move files between
    // inputs, the shot stays in the camera's input, as without scripts.
    if (camera && typeof DataTransfer === 'function') {
      camera.addEventListener('change', function () {
        if (!camera.files || camera.files.length === 0) return;
        try {
          var all = new DataTransfer();
          Array.prototype.forEach.call(photos.files || [], function (f) { all.items.add(f); });
          Array.prototype.forEach.call(camera.files, function (f) { all.items.add(f); });
          photos.files = all.files;
          camera.value = '';
        } catch (e) {
          // Left where it is: sent with the form from the camera's input.
        }
      });
    }
    form.addEventListener('submit', function (event) {
      var files = [];
      [photos, camera].forEach(function (input) {
        if (input && input.files) Array.prototype.push.apply(files, Array.prototype.slice.call(input.files));
      });
      var maxCount = Number(photos.getAttribute('data-max-count')) || 0;
      var maxBytes = Number(photos.getAttribute('data-max-bytes')) || 0;
      var message = null;
      // The photo too large is named, with its size: of five chosen on a phone, the resident learns which to change.
      var tooLarge = maxBytes > 0 ? files.filter(function (f) { return f.size > maxBytes; })[0] : undefined;
      var sizeOf = photos.getAttribute('data-err-size-of');
      if (maxCount > 0 && files.length > maxCount) message = photos.getAttribute('data-err-count');
      else if (tooLarge && tooLarge.name && sizeOf) message = sizeOf.replace('{name}', tooLarge.name).replace('{size}', (tooLarge.size / 1024 / 1024).toFixed(1));
      else if (tooLarge) message = photos.getAttribute('data-err-size');
      if (!message) return;
      event.preventDefault();
      // Not sent: the guard against a double click below must not disable the button.
      event.stopImmediatePropagation();
      // The server's message for the field, if the page came back with one, gives way to this one.
      var old = document.getElementById('photos-error');
      if (old && old !== clientError) old.parentNode.removeChild(old);
      clearClientError();
      clientError = document.createElement('p');
      clientError.className = 'field-error';
      clientError.id = 'photos-error';
      clientError.setAttribute('role', 'alert');
      clientError.textContent = message;
      var hint = document.getElementById('photos-hint');
      if (hint) hint.insertAdjacentElement('afterend', clientError);
      photos.setAttribute('aria-invalid', 'true');
      var described = photos.getAttribute('aria-describedby') || '';
      if (!/\bphotos-error\b/.test(described)) photos.setAttribute('aria-describedby', ('photos-error ' + described).trim());
      photos.focus();
    });
  }

  // One click sends once; the server also makes a second send of the same form return the same case.
  var label = null;
  form.addEventListener('submit', function () {
    var button = form.querySelector('button[type=submit]');
    if (!button) return;
    label = button.textContent;
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = button.getAttribute('data-sending') || button.textContent;
    }, 0);
  });
  // Coming back to the page from the history: the button works again.
  window.addEventListener('pageshow', function () {
    var button = form.querySelector('button[type=submit]');
    if (!button) return;
    button.disabled = false;
    if (label !== null) button.textContent = label;
  });
})();
