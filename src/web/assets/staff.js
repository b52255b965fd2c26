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

  // <fieldset data-rule-co='{"type":["bureau"]}'> with radios coFrom=rule|chosen
  // and boxes [data-co-choice]: ticking a box means the ticked bureaus, and
  // while the routing table decides, the boxes show what it gives the type
  // just chosen in the form's type select.
  document.addEventListener('change', function (event) {
    var input = event.target;
    var form = input && input.form;
    var set = form ? form.querySelector('fieldset[data-rule-co]') : null;
    if (!set) return;
    if (input.hasAttribute && input.hasAttribute('data-co-choice')) {
      var chosen = set.querySelector('input[name=coFrom][value=chosen]');
      if (chosen) chosen.checked = true;
      return;
    }
    var rule = set.querySelector('input[name=coFrom][value=rule]');
    if (input.name !== 'type' || !rule || !rule.checked) return;
    try {
      var co = JSON.parse(set.getAttribute('data-rule-co'))[input.value] || [];
      Array.prototype.forEach.call(set.querySelectorAll('input[data-co-choice]'), function (box) {
        box.checked = co.indexOf(box.value) >= 0;
      });
    } catch (e) {
      // Leave the boxes as the server rendered them.
    }
  });
})();
