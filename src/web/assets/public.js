// Bar charts drawn from the tables of the public disclosure page (ECharts,
// served by this service). The tables stay the source and stay on the page:
// the charts are a picture of them, hidden from screen readers.
(function () {
  'use strict';
  if (!window.echarts || !window.chartLabels) return;
  var charts = [];
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
    var wrap = table.closest('.table-wrap') || table;
    wrap.parentNode.insertBefore(box, wrap);
    // Each name whole, broken into lines within the room the chart's width leaves it (a long type or office on a phone,
    // the English names): the rows as tall as their names' lines, the chart as tall as its rows and its axis.
    function build() {
      var rows = window.chartLabels.rows(box.clientWidth, names, 1);
      box.style.height = Math.max(160, names.length * Math.max(36, rows.row) + 60) + 'px';
      return {
        animation: false,
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: rows.axis,
        series: [{ type: 'bar', data: values, itemStyle: { color: '#0b4f8a' }, label: { show: true, position: 'right' } }],
      };
    }
    var option = build();
    var chart = window.echarts.init(box, null, { renderer: 'canvas' });
    chart.setOption(option);
    charts.push({ chart: chart, build: build });
  });
  // Laid out again when the width changes (a phone turned): the names have more or less room, so other lines.
  var lastWidth = window.innerWidth;
  window.addEventListener('resize', function () {
    var relayout = window.innerWidth !== lastWidth;
    lastWidth = window.innerWidth;
    charts.forEach(function (c) {
      if (relayout) c.chart.setOption(c.build(), true);
      c.chart.resize();
    });
  });
})();
