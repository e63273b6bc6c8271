// The engineer's binding code (templates/engineer/stewards/code.html): a countdown to its expiry.
(function () {
  var el = document.getElementById('expiry');
  if (!el) return;
  var end = new Date(el.dataset.expires).getTime();
  function tick() {
    var left = Math.round((end - Date.now()) / 1000);
    if (left <= 0) { el.textContent = '绑定码已过期，请重新生成'; el.style.color = '#c0392b'; return; }
    el.textContent = '剩余 ' + Math.floor(left / 60) + ' 分 ' + (left % 60) + ' 秒';
    setTimeout(tick, 1000);
  }
  tick();
})();
