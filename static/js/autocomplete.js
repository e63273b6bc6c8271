// Console pickers: <input data-autocomplete="estates|users|engineers" data-target="estate_id">
// becomes a search box whose suggestions (a session JSON call, /admin/api/autocomplete/<kind>)
// fill the hidden field named by data-target with the chosen id. Without this script the input
// stays a plain text field and the server resolves what was typed (a code, a phone, an exact name).
// data-append="estate_ids" instead adds the chosen id to a comma-separated list field.
(function () {
  'use strict';
  var DELAY = 200;
  var counter = 0;

  function setup(input) {
    var form = input.form || document;
    var target = input.dataset.target ? form.querySelector('[name="' + input.dataset.target + '"]') : null;
    var append = input.dataset.append ? form.querySelector('[name="' + input.dataset.append + '"]') : null;
    var url = input.dataset.url || ('/admin/api/autocomplete/' + input.dataset.autocomplete);
    var list = document.createElement('ul');
    var timer = null, items = [], active = -1, seq = 0;

    counter += 1;
    list.id = 'ac-list-' + counter;
    list.className = 'ac-list';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    var wrap = document.createElement('div');
    wrap.className = 'ac';
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('autocomplete', 'off');

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll('[role=option]');
      if (!options.length) return;
      active = (index + options.length) % options.length;
      options.forEach(function (li, i) { li.setAttribute('aria-selected', i === active ? 'true' : 'false'); });
      input.setAttribute('aria-activedescendant', options[active].id);
      options[active].scrollIntoView({block: 'nearest'});
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      if (append) {
        var ids = append.value.split(/[,，、\s]+/).filter(function (p) { return /^\d+$/.test(p); });
        if (ids.indexOf(String(item.id)) === -1) ids.push(String(item.id));
        append.value = ids.join(', ');
        input.value = '';
      } else {
        input.value = item.value || item.label;
        if (target) target.value = item.id;
      }
      input.dispatchEvent(new CustomEvent('autocomplete:chosen', {bubbles: true, detail: item}));
      close();
    }

    function note(text) {
      list.textContent = '';
      var li = document.createElement('li');
      li.className = 'ac-note';
      li.textContent = text;
      list.appendChild(li);
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function show(found) {
      items = found;
      list.textContent = '';
      if (!found.length) { note('没有找到匹配的结果'); return; }
      found.forEach(function (item, i) {
        var li = document.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        var main = document.createElement('span');
        main.textContent = item.label;
        li.appendChild(main);
        if (item.detail) {
          var detail = document.createElement('span');
          detail.className = 'muted';
          detail.textContent = item.detail;
          li.appendChild(detail);
        }
        li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function search() {
      var q = input.value.trim();
      if (!q) { close(); return; }
      var mine = ++seq;
      fetch(url + '?q=' + encodeURIComponent(q), {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (mine !== seq) return; // a later keystroke's answer wins
          if (body.error) { note(body.error.message); return; }
          show(body.items || []);
        })
        .catch(function () { if (mine === seq) note('搜索失败，请重试'); });
    }

    input.addEventListener('input', function () {
      if (target) target.value = ''; // typed text no longer names the chosen one
      clearTimeout(timer);
      timer = setTimeout(search, DELAY);
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        highlight(active + (e.key === 'ArrowDown' ? 1 : -1));
      } else if (e.key === 'Enter' && !list.hidden && active >= 0) {
        e.preventDefault();
        choose(active);
      } else if (e.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }

  function init() {
    document.querySelectorAll('input[data-autocomplete]').forEach(setup);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
