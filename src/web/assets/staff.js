// Staff pages: small conveniences on top of forms that work without them.
(function () {
  'use strict';

  // <input type="file" data-max-count data-max-bytes data-err-count data-err-size>: too many files, or one over the
  // size limit, is said next to the field before anything is sent. Sent, a form over what the service reads at all
  // would be refused whole, on a page without the form and what was typed in it. The server checks the same again.
  document.addEventListener(
    'submit',
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      var input = form.querySelector('input[type=file][data-max-count]');
      if (!input || !input.files) return;
      var files = Array.prototype.slice.call(input.files);
      var maxCount = Number(input.getAttribute('data-max-count')) || 0;
      var maxBytes = Number(input.getAttribute('data-max-bytes')) || 0;
      var message = null;
      if (maxCount > 0 && files.length > maxCount) message = input.getAttribute('data-err-count');
      else if (maxBytes > 0 && files.some(function (f) { return f.size > maxBytes; })) message = input.getAttribute('data-err-size');
      var id = input.id + '-client-error';
      var old = document.getElementById(id);
      if (old) old.parentNode.removeChild(old);
      if (!message) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var error = document.createElement('p');
      error.className = 'field-error';
      error.id = id;
      error.setAttribute('role', 'alert');
      error.textContent = message;
      var after = input.closest('.file-picker') || input;
      after.insertAdjacentElement('afterend', error);
      input.setAttribute('aria-invalid', 'true');
      var described = input.getAttribute('aria-describedby') || '';
      if (described.split(' ').indexOf(id) < 0) input.setAttribute('aria-describedby', (id + ' ' + described).trim());
      input.focus();
    },
    true,
  );

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

  // <fieldset data-rule-co='{"type":["bureau"]}' data-rule-lead='{"type":"bureau"}'>
  // with radios coFrom=rule|chosen and boxes [data-co-choice]: ticking a box
  // means the ticked bureaus, and while the routing table decides, the boxes
  // show what it gives the type just chosen in the form's type select. The
  // bureau that will lead (the form's lead select, or the routing table's
  // lead of the chosen type) cannot co-handle too: its box is disabled and
  // marked [data-lead-mark], and gets its tick back once another bureau
  // leads (data-was-checked keeps it meanwhile).
  var tick = function (box, checked) {
    if (box.disabled) box.setAttribute('data-was-checked', checked ? '1' : '');
    else box.checked = checked;
  };
  var markLead = function (form, set) {
    var leadSelect = form.querySelector('select[name=lead]');
    var typeSelect = form.querySelector('select[name=type]');
    var lead = leadSelect ? leadSelect.value : '';
    if (lead === '' && typeSelect) lead = JSON.parse(set.getAttribute('data-rule-lead') || '{}')[typeSelect.value] || '';
    Array.prototype.forEach.call(set.querySelectorAll('input[data-co-choice]'), function (box) {
      var isLead = box.value === lead;
      if (isLead && !box.disabled) {
        box.setAttribute('data-was-checked', box.checked ? '1' : '');
        box.checked = false;
      } else if (!isLead && box.disabled) {
        box.checked = box.getAttribute('data-was-checked') === '1';
      }
      box.disabled = isLead;
      var mark = box.labels && box.labels[0] ? box.labels[0].querySelector('[data-lead-mark]') : null;
      if (mark) mark.hidden = !isLead;
    });
  };
  // As the page opens: the server draws every box as a choice (without scripts one may tick the old lead while picking another).
  Array.prototype.forEach.call(document.querySelectorAll('fieldset[data-rule-co]'), function (set) {
    try {
      if (set.form) markLead(set.form, set);
    } catch (e) {
      // Leave the boxes as the server rendered them.
    }
  });
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
    if (input.name !== 'type' && input.name !== 'lead') return;
    try {
      var rule = set.querySelector('input[name=coFrom][value=rule]');
      if (input.name === 'type' && rule && rule.checked) {
        var co = JSON.parse(set.getAttribute('data-rule-co'))[input.value] || [];
        Array.prototype.forEach.call(set.querySelectorAll('input[data-co-choice]'), function (box) {
          tick(box, co.indexOf(box.value) >= 0);
        });
      }
      markLead(form, set);
    } catch (e) {
      // Leave the boxes as the server rendered them.
    }
  });
})();

// Drafts of the case page's forms (<form data-draft>, inside the layout's
// <main data-drafts-of="<account>"> of every signed-in page): what the clerk types into a free-text
// field is kept in this browser's localStorage, under the account and the
// form's action (one draft per case and form), so a session that ended
// while they typed (the post goes to the sign-in page) loses nothing: the
// page shown again puts the draft back. The server says which form it has
// accepted (data-draft-done): that draft is dropped. On a shared office
// computer, any staff page of one account drops every other account's drafts, the
// page after signing out (data-drafts-clear) drops them all, and a draft
// left untouched for a week is dropped. Chosen files cannot be kept: the
// page then says how many must be chosen again. Two forms posting to one
// action tell their drafts apart by data-draft-name (the key is then
// action#name). A field marked data-draft-default holds the page's
// suggestion (a default reason, a new call's time): a draft replaces it, and
// left as it is, it alone makes no draft. A hidden field carries the page's
// state, not typing: it is never kept. A form whose fields change from one
// showing to the next (the console's review, split in two or not) keeps in
// its draft what was typed into the fields this showing has not. A page may
// name several forms done (data-draft-done, keys parted by spaces), and an
// element marked data-draft-waiting="<key prefix>" is shown when a draft of
// a form not on this page waits (the console's review, to be analysed again).
(function () {
  'use strict';

  var PREFIX = 'draft:';
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var storage;
  try {
    storage = window.localStorage;
    if (!storage) return;
  } catch (e) {
    // Storage switched off: the forms work as without this script.
    return;
  }

  var read = function (key) {
    try {
      var draft = JSON.parse(storage.getItem(key));
      return draft && typeof draft.at === 'number' && draft.fields && typeof draft.fields === 'object' ? draft : null;
    } catch (e) {
      return null;
    }
  };

  var scope = document.querySelector('[data-drafts-of]');
  var mine = scope ? PREFIX + scope.getAttribute('data-drafts-of') + ':' : null;
  var clearAll = document.querySelector('[data-drafts-clear]') !== null;
  try {
    var keys = [];
    for (var i = 0; i < storage.length; i++) {
      var key = storage.key(i);
      if (key !== null && key.indexOf(PREFIX) === 0) keys.push(key);
    }
    var kept = 0;
    keys.forEach(function (key) {
      var draft = read(key);
      if (clearAll || (mine !== null && key.indexOf(mine) !== 0) || !draft || Date.now() - draft.at > MAX_AGE_MS) storage.removeItem(key);
      else kept += 1;
    });
  } catch (e) {
    return;
  }
  if (mine === null) {
    // The sign-in page a post came to after its session ended: say that what was typed is not lost.
    var keptNotice = document.querySelector('[data-drafts-kept]');
    if (keptNotice && kept > 0) keptNotice.hidden = false;
    return;
  }

  var doneIn = document.querySelector('[data-draft-done]');
  var done = doneIn && doneIn.getAttribute('data-draft-done');
  if (done) {
    done.split(' ').forEach(function (key) {
      if (key !== '') storage.removeItem(mine + key);
    });
    // A reload of this page, or a post from it that comes back through the
    // sign-in page, must not drop the next draft of the same form.
    try {
      var url = new URL(location.href);
      url.searchParams.delete('done');
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    } catch (e) {
      // An old browser keeps ?done= in the address: nothing else changes.
    }
  }

  // A case merged into another the unit holds (data-draft-carry="<this case's path> <that case's path>"): a reply or a
  // progress note typed on it and not sent moves to that case, to be put back on its page (not over one waiting there).
  Array.prototype.forEach.call(scope.querySelectorAll('[data-draft-carry]'), function (el) {
    var paths = el.getAttribute('data-draft-carry').split(' ');
    if (paths.length !== 2) return;
    var carried = false;
    ['reply', 'progress'].forEach(function (form) {
      var from = mine + paths[0] + form;
      var to = mine + paths[1] + form;
      var draft = read(from);
      if (!draft || read(to)) return;
      try {
        storage.setItem(to, JSON.stringify(draft));
        storage.removeItem(from);
        carried = true;
      } catch (e) {
        // Storage full: the draft stays with this case.
      }
    });
    var said = el.querySelector('[data-draft-carried]');
    if (carried && said) said.hidden = false;
  });

  Array.prototype.forEach.call(scope.querySelectorAll('form[data-draft][action]'), function (form) {
    var name = form.getAttribute('data-draft-name');
    var key = mine + form.getAttribute('action') + (name ? '#' + name : '');
    var fields = Array.prototype.filter.call(form.querySelectorAll('textarea[name], input[type="text"][name], input[data-draft-default][name]'), function (el) {
      return el.name !== '_csrf' && el.type !== 'hidden' && !el.hidden;
    });
    var shownHere = {};
    fields.forEach(function (el) {
      shownHere[el.name] = true;
    });
    var suggested = function (el) {
      return el.hasAttribute('data-draft-default');
    };
    var fileInput = form.querySelector('input[type="file"]');

    var saved = read(key);
    if (saved) {
      var restored = false;
      fields.forEach(function (el) {
        var value = saved.fields[el.name];
        // A form the server sent back refused already holds what was posted: that wins.
        if (typeof value === 'string' && value.trim() !== '' && value !== el.value && (el.value === '' || suggested(el))) {
          el.value = value;
          restored = true;
        }
      });
      if (restored) {
        var notice = form.parentNode.querySelector('[data-draft-restored]');
        if (notice) notice.hidden = false;
        var chosen = Number(saved.files) || 0;
        var filesNotice = form.parentNode.querySelector('[data-draft-files]');
        if (filesNotice && chosen > 0) {
          var count = filesNotice.querySelector('[data-draft-files-count]');
          if (count) count.textContent = String(chosen);
          filesNotice.hidden = false;
        }
      }
    }

    var save = function () {
      var values = {};
      var typed = false;
      var before = read(key);
      if (before) {
        Object.keys(before.fields).forEach(function (name) {
          var value = before.fields[name];
          if (shownHere[name] || typeof value !== 'string') return;
          values[name] = value;
          typed = typed || value.trim() !== '';
        });
      }
      fields.forEach(function (el) {
        values[el.name] = el.value;
        typed = typed || (el.value.trim() !== '' && !(suggested(el) && el.value === el.defaultValue));
      });
      try {
        if (typed) {
          var files = fileInput && fileInput.files ? fileInput.files.length : 0;
          storage.setItem(key, JSON.stringify({ at: Date.now(), fields: values, files: files }));
        } else {
          storage.removeItem(key);
        }
      } catch (e) {
        // Storage full: the draft is not kept, the form still posts.
      }
    };
    form.addEventListener('input', save);
    form.addEventListener('change', save);
  });

  Array.prototype.forEach.call(scope.querySelectorAll('[data-draft-waiting]'), function (notice) {
    var prefix = mine + notice.getAttribute('data-draft-waiting');
    try {
      for (var i = 0; i < storage.length; i++) {
        var key = storage.key(i);
        if (key !== null && key.indexOf(prefix) === 0) notice.hidden = false;
      }
    } catch (e) {
      // Storage unreadable: the notice stays hidden.
    }
  });
})();
