// Small progressive enhancements shared by every page. The pages work
// without this file; it only adds conveniences.
(function () {
  'use strict';

  // <p data-focus-on-load tabindex="-1">: a page sent back with a refused
  // action opens on its message, wherever the form is on the page.
  var problem = document.querySelector('[data-focus-on-load]');
  if (problem) problem.focus();

  // <button data-confirm="…">: ask before an action that cannot be undone.
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-confirm]') : null;
    if (target && !window.confirm(target.getAttribute('data-confirm'))) event.preventDefault();
  });

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
