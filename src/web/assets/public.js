// Bar charts drawn from the tables of the public disclosure page (ECharts,
// served by this service). The tables stay the source and stay on the page:
// the charts are a picture of them, hidden from screen readers.
(function () {
  'use strict';
  if (!window.echarts) return;
  var tables = document.querySelectorAll('table[data-chart]');
  Array.prototype.forEach.call(tables, function (table) {
    var names = [];
    var values = [];
    Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr) {
      var th = tr.querySelector('th');
      var td = tr.querySelector('td');
      if (!th || !td) return;
      names.push(th.textContent.trim());
      values.push(Number(td.textContent));
    });
    if (names.length === 0) return;
    var box = document.createElement('div');
    box.className = 'chart';
    box.id = table.id + '-chart';
    box.setAttribute('aria-hidden', 'true');
    box.style.height = Math.max(160, names.length * 36 + 60) + 'px';
    var wrap = table.closest('.table-wrap') || table;
    wrap.parentNode.insertBefore(box, wrap);
    var chart = window.echarts.init(box, null, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: names.slice().reverse(), axisLabel: { width: 120, overflow: 'truncate' } },
      series: [{ type: 'bar', data: values.slice().reverse(), itemStyle: { color: '#0b4f8a' }, label: { show: true, position: 'right' } }],
    });
    window.addEventListener('resize', function () {
      chart.resize();
    });
  });
})();
