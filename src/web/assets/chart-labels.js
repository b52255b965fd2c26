// The names of a bar chart's rows, broken into lines instead of cut, and the height each row needs for them: one
// layout for the dispatchers' dashboard (dashboard.js) and the public disclosure page (public.js), which load this
// file first. A name cut short (区生态环境局…, District Bureau of Agri…) cannot be read; its table is further down.
(function () {
  'use strict';

  // About how wide a label is drawn at ECharts' 12 px: a Chinese character a full em, others a little over half.
  function labelWidth(text) {
    return Array.prototype.reduce.call(text, function (w, ch) { return w + (/[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 12 : 7); }, 0);
  }

  // The height of a line of a label, with the room between two lines.
  var LINE = 16;

  // How many lines the longest of `names` takes when each may be `room` wide: broken between words, or between Chinese
  // characters, as ECharts breaks them. Counted with the generous widths of labelWidth, so a name takes no more lines
  // than its row has room for (ECharts' own measure of a word varies a little with the fonts at hand).
  function linesOf(names, room) {
    return names.reduce(function (most, name) {
      var lines = 1;
      var used = 0;
      (name.match(/[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+|\s+/g) || []).forEach(function (part) {
        var width = labelWidth(part);
        if (/^\s+$/.test(part)) {
          used += width;
          return;
        }
        if (used > 0 && used + width > room) {
          lines += 1;
          used = 0;
        }
        // A word longer than a line is broken within it.
        for (; width > room; width -= room) lines += 1;
        used += width;
      });
      return Math.max(most, lines);
    }, 1);
  }

  // A chart `width` wide of names lying down, one a row (the bars across), first at the top: its category axis, each
  // name broken into lines no wider than some 40 % of the chart, so the bars keep the rest, and the height of a row,
  // enough for the most lines a name takes and for `barsPerRow` bars side by side. The caller makes the chart as tall
  // as its rows before it is drawn.
  function rows(width, names, barsPerRow) {
    var room = Math.max(72, Math.floor(width * 0.4));
    return {
      row: Math.max(barsPerRow * 10 + 12, linesOf(names, room) * LINE + 8),
      axis: { type: 'category', data: names, inverse: true, axisLabel: { interval: 0, width: room, overflow: 'break', lineHeight: LINE } },
    };
  }

  window.chartLabels = { LINE: LINE, labelWidth: labelWidth, rows: rows };
})();
