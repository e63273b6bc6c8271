// The activity form's estate search: finds estates the organiser may reach (a page JSON call with
// the session) and adds the chosen one's id to the comma-separated list of estate ids.
(function () {
  var input = document.getElementById('estate-search');
  var go = document.getElementById('estate-search-go');
  var results = document.getElementById('estate-results');
  var ids = document.getElementById('estate_ids');
  if (!input || !go || !results || !ids) return;

  function chosen() {
    return ids.value.split(/[,，、\s]+/).filter(function (part) { return /^\d+$/.test(part); });
  }

  function add(id) {
    var list = chosen();
    if (list.indexOf(String(id)) === -1) list.push(String(id));
    ids.value = list.join(', ');
  }

  function line(text, muted) {
    var li = document.createElement('li');
    var span = document.createElement('span');
    span.textContent = text;
    if (muted) span.className = 'muted';
    li.appendChild(span);
    return li;
  }

  function search() {
    var q = input.value.trim();
    results.textContent = '';
    if (!q) return;
    fetch(results.dataset.url + '?q=' + encodeURIComponent(q), {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) { results.appendChild(line(body.error.message, true)); return; }
        if (!body.items.length) { results.appendChild(line('没有找到可以选择的小区', true)); return; }
        body.items.forEach(function (estate) {
          var li = line(estate.name + '（' + [estate.city, estate.district].join(' ') + '） #' + estate.id);
          var button = document.createElement('button');
          button.type = 'button';
          button.className = 'small secondary';
          button.textContent = '添加';
          button.addEventListener('click', function () { add(estate.id); button.textContent = '已添加'; button.disabled = true; });
          li.appendChild(button);
          results.appendChild(li);
        });
      })
      .catch(function () { results.appendChild(line('搜索失败，请重试', true)); });
  }

  go.addEventListener('click', search);
  input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); search(); } });
})();
