// An estate's KPI charts (templates/admin/community/stats/estate_kpis.html), drawn with the
// vendored Chart.js from the figures the page embeds as JSON (#kpi-data).
(function () {
  var source = document.getElementById('kpi-data');
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var labels = data.months.map(function (m) { return m.month; });
  var pick = function (k) { return data.months.map(function (m) { return m[k]; }); };
  new Chart(document.getElementById('rates'), {type: 'line', data: {labels: labels, datasets: [
    {label: '每千户订单', data: pick('orders_per_1000'), borderColor: '#2563eb', tension: 0.2},
    {label: '每千户投诉', data: pick('complaints_per_1000'), borderColor: '#dc2626', tension: 0.2}]},
    options: {animation: false, spanGaps: true}});
  new Chart(document.getElementById('volume'), {data: {labels: labels, datasets: [
    {type: 'bar', label: '订单数', data: pick('orders'), backgroundColor: '#93c5fd', yAxisID: 'y'},
    {type: 'line', label: '平均评分', data: pick('avg_rating'), borderColor: '#16a34a', yAxisID: 'rating', spanGaps: true}]},
    options: {animation: false, scales: {y: {beginAtZero: true}, rating: {position: 'right', min: 1, max: 5}}}});
})();
