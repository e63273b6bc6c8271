// The bulk bar of a review queue (templates/_macros.html bulk_bar): "select all", and how many
// items are selected, in the queue's measure word (data-unit on this script tag).
(function () {
  var unit = document.currentScript.dataset.unit || '条';
  var all = document.getElementById('select-all');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name=ids]'));
  var count = document.getElementById('selected-count');
  if (!all || !count) { return; }
  function update() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    count.textContent = n ? '已选择 ' + n + ' ' + unit : '未选择';
    all.checked = n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }
  all.addEventListener('change', function () { boxes.forEach(function (b) { b.checked = all.checked; }); update(); });
  boxes.forEach(function (b) { b.addEventListener('change', update); });
  update();
})();
