// The dispatchers' dashboard: draws the figures the page embeds as JSON
// (#dashboard-data) with ECharts, and the cases on a Leaflet map when map
// tiles are configured. Both libraries are served by this service.
(function () {
  'use strict';

  var source = document.getElementById('dashboard-data');
  if (!source || typeof window.echarts === 'undefined') return;
  var data = JSON.parse(source.textContent || '{}');
  var L = data.labels || {};
  var charts = [];
  // Colours that stay apart for the common kinds of colour blindness (Okabe–Ito), then ECharts' own.
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc', '#8d6e63', '#607d8b'];

  function init(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    // No animation: the figures are there at once (and screenshots show them).
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    option.animation = false;
    option.color = PALETTE;
    chart.setOption(option);
    charts.push(chart);
  }

  // About how wide a label is drawn at ECharts' 12 px: a Chinese character a full em, others a little over half.
  function labelWidth(text) {
    return Array.prototype.reduce.call(text, function (w, ch) { return w + (/[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 12 : 7); }, 0);
  }

  function rateOption(rows, id) {
    var names = rows.map(function (r) { return r.name; });
    // Turned when the names side by side would not fit under their bars (each with a little room).
    var el = document.getElementById(id);
    var room = (el ? el.clientWidth : 600) - 60;
    var wide = names.reduce(function (w, n) { return w + labelWidth(n) + 12; }, 0) > room;
    function series(key, label) {
      return {
        name: label,
        type: 'bar',
        data: rows.map(function (r) { return r[key] === null ? null : Math.round(r[key] * 1000) / 10; }),
      };
    }
    return {
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v === null || v === undefined ? '—' : v + '%'; } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: wide ? 30 : 0 } },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: [series('response', L.response), series('resolution', L.resolution), series('satisfaction', L.satisfaction)],
    };
  }

  var perDay = data.perDay || { days: [], series: [] };
  // Days as MM-DD while the period stays within one year; across a new year the year too, or 12-31 of two years would read alike.
  var oneYear = perDay.days.length === 0 || perDay.days[0].slice(0, 4) === perDay.days[perDay.days.length - 1].slice(0, 4);
  init('chart-per-day', {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
    xAxis: { type: 'category', data: perDay.days.map(function (d) { return oneYear ? d.slice(5) : d; }) },
    yAxis: { type: 'value', minInterval: 1 },
    series: perDay.series.map(function (s) {
      return { name: s.name, type: 'bar', stack: 'cases', data: s.data, emphasis: { focus: 'series' } };
    }),
  });
  init('chart-by-bureau', rateOption(data.byBureau || [], 'chart-by-bureau'));
  init('chart-by-jurisdiction', rateOption(data.byJurisdiction || [], 'chart-by-jurisdiction'));
  var overdue = data.overdue || [];
  init('chart-overdue', {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: overdue.map(function (o) { return o.name; }), inverse: true },
    series: [
      { name: L.signOverdue, type: 'bar', stack: 'overdue', data: overdue.map(function (o) { return o.sign; }) },
      { name: L.replyOverdue, type: 'bar', stack: 'overdue', data: overdue.map(function (o) { return o.reply; }) },
    ],
  });

  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.resize(); });
  });

  // The map: one circle per located case, red while open, grey once closed; a popup links to the case.
  var mapEl = document.getElementById('case-map');
  if (mapEl && data.map && typeof window.L !== 'undefined') {
    // The zoom buttons' names in the page's language, not Leaflet's English.
    var map = window.L.map(mapEl, { zoomControl: false }).setView(data.map.center, data.map.zoom);
    window.L.control
      .zoom({ zoomInTitle: mapEl.getAttribute('data-zoom-in') || 'Zoom in', zoomOutTitle: mapEl.getAttribute('data-zoom-out') || 'Zoom out' })
      .addTo(map);
    // Leaflet's credit without its English tooltip.
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    window.L.tileLayer(data.map.tiles, { attribution: data.map.attribution, maxZoom: 19 }).addTo(map);
    var bounds = [];
    data.map.points.forEach(function (p) {
      var marker = window.L.circleMarker([p.lat, p.lng], {
        radius: 7,
        color: p.open ? '#a4161a' : '#4a4a4a',
        fillOpacity: 0.7,
      }).addTo(map);
      var popup = document.createElement('div');
      var link = document.createElement('a');
      link.href = p.href;
      link.textContent = p.code;
      popup.appendChild(link);
      popup.appendChild(document.createTextNode(' · ' + p.type + ' · ' + p.status));
      marker.bindPopup(popup);
      bounds.push([p.lat, p.lng]);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    mapEl.setAttribute('data-points', String(bounds.length));
  }

  document.documentElement.setAttribute('data-dashboard', 'drawn');
})();
