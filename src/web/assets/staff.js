// Staff pages: small conveniences on top of forms that work without them.
(function () {
  'use strict';

  // <select data-leads='{"type":"bureaus"}' data-lead-target="#out">: show the
  // bureaus a type goes to as soon as the operator picks another type.
  document.addEventListener('change', function (event) {
    var select = event.target instanceof HTMLSelectElement ? event.target : null;
    if (!select || !select.hasAttribute('data-leads')) return;
    var target = document.querySelector(select.getAttribute('data-lead-target'));
    if (!target) return;
    try {
      var leads = JSON.parse(select.getAttribute('data-leads'));
      target.textContent = leads[select.value] || '—';
    } catch (e) {
      // Leave the text as the server rendered it.
    }
  });
})();
