// The dispatchers' dashboard: draws the figures the page embeds as JSON
// (#dashboard-data) with ECharts, and the cases on a Leaflet map when map
// tiles are configured. Both libraries are served by this service.
(function () {
  'use strict';

  var source = document.getElementById('dashboard-data');
  if (!source || typeof window.echarts === 'undefined' || !window.chartLabels) return;
  var labels = window.chartLabels;
  var labelWidth = labels.labelWidth;
  var LINE = labels.LINE;
  var data = JSON.parse(source.textContent || '{}');
  var L = data.labels || {};
  var charts = [];
  // Colours that stay apart for the common kinds of colour blindness (Okabe–Ito), then ECharts' own.
  var PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc', '#8d6e63', '#607d8b'];

  // Each chart with the function that makes its option: made again when the screen's width changes (a phone turned),
  // as how its names are laid out depends on the width they have.
  function init(id, build) {
    var el = document.getElementById(id);
    if (!el) return;
    var option = build();
    // No animation: the figures are there at once (and screenshots show them).
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(finish(option));
    charts.push({ chart: chart, build: build });
  }

  function finish(option) {
    option.animation = false;
    option.color = PALETTE;
    return option;
  }

  // A chart of names lying down, one a row (the bars across), laid out by chart-labels.js: sets the element's height to
  // its rows' (and the legend's and the axis's), before it is drawn.
  function rowsLayout(el, names, barsPerRow) {
    var rows = labels.rows(el ? el.clientWidth : 600, names, barsPerRow);
    if (el) el.style.height = Math.max(320, 36 + 32 + names.length * rows.row) + 'px';
    return rows.axis;
  }

  function rateOption(rows, id) {
    var names = rows.map(function (r) { return r.name; });
    var el = document.getElementById(id);
    var room = (el ? el.clientWidth : 600) - 60;
    // Level when the names side by side fit under their bars (each with a little room); else turned 30°, when two
    // neighbouring names stand apart by a line at least (their slot's width · sin 30°) and the longest, turned, leaves
    // the bars half the chart's width; else (a phone, many units, the long English names) lying down, one a row.
    var level = names.reduce(function (w, n) { return w + labelWidth(n) + 12; }, 0) <= room;
    var longest = names.reduce(function (w, n) { return Math.max(w, labelWidth(n)); }, 0);
    var turned = !level && names.length > 0 && room / names.length / 2 >= LINE && longest * 0.87 <= room / 2;
    if (el) el.style.height = '';
    function series(key, label) {
      return {
        name: label,
        type: 'bar',
        data: rows.map(function (r) { return r[key] === null ? null : Math.round(r[key] * 1000) / 10; }),
      };
    }
    var percent = { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%', hideOverlap: true } };
    var option = {
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v === null || v === undefined ? '—' : v + '%'; } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      series: [series('response', L.response), series('resolution', L.resolution), series('satisfaction', L.satisfaction)],
    };
    if (level || turned) {
      option.xAxis = { type: 'category', data: names, axisLabel: { interval: 0, rotate: turned ? 30 : 0 } };
      option.yAxis = percent;
    } else {
      // 0, 50 and 100 % across what is left beside the names.
      percent.interval = 50;
      option.xAxis = percent;
      option.yAxis = rowsLayout(el, names, 3);
      option.grid.right = 24;
    }
    return option;
  }

  var perDay = data.perDay || { days: [], series: [] };
  // Days as MM-DD while the period stays within one year; across a new year the year too, or 12-31 of two years would read alike.
  var oneYear = perDay.days.length === 0 || perDay.days[0].slice(0, 4) === perDay.days[perDay.days.length - 1].slice(0, 4);
  init('chart-per-day', function () {
    return {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      // ECharts leaves out the days whose names would not fit (every other one, or more, on a phone or over a year).
      xAxis: { type: 'category', data: perDay.days.map(function (d) { return oneYear ? d.slice(5) : d; }), axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', minInterval: 1 },
      series: perDay.series.map(function (s) {
        return { name: s.name, type: 'bar', stack: 'cases', data: s.data, emphasis: { focus: 'series' } };
      }),
    };
  });
  init('chart-by-bureau', function () { return rateOption(data.byBureau || [], 'chart-by-bureau'); });
  init('chart-by-jurisdiction', function () { return rateOption(data.byJurisdiction || [], 'chart-by-jurisdiction'); });
  var overdue = data.overdue || [];
  init('chart-overdue', function () {
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 24, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { hideOverlap: true } },
      // Every unit late named on its row, however many there are.
      yAxis: rowsLayout(document.getElementById('chart-overdue'), overdue.map(function (o) { return o.name; }), 1),
      series: [
        { name: L.signOverdue, type: 'bar', stack: 'overdue', data: overdue.map(function (o) { return o.sign; }) },
        { name: L.replyOverdue, type: 'bar', stack: 'overdue', data: overdue.map(function (o) { return o.reply; }) },
      ],
    };
  });

  // Laid out again for the new width (the names may lie down or stand up now), then drawn to the element's size.
  var lastWidth = window.innerWidth;
  window.addEventListener('resize', function () {
    var relayout = window.innerWidth !== lastWidth;
    lastWidth = window.innerWidth;
    charts.forEach(function (c) {
      if (relayout) c.chart.setOption(finish(c.build()), true);
      c.chart.resize();
    });
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
