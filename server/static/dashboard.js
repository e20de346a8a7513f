/* Dashboard charts: every <canvas data-chart="…" data-figures="id"> is drawn with Chart.js
   (served by this server, /static/vendor/chart.umd.min.js) from the JSON in the element `id`
   (<script type="application/json">): the same figures the page's tables show, in the indices
   API's shape, computed once by the server for the page. The tables hold the same figures, so
   the charts are an aid, not the only way to read them. A file of its own because the
   Content-Security-Policy refuses inline scripts.
   When a chart is drawn its canvas gets data-ready="yes" ("error" when it could not be). */
(function () {
  'use strict';

  var lang = document.documentElement.lang === 'en' ? 'en' : 'vi';
  var TEXT = {
    vi: {
      index: 'Chỉ số (%)', interval: 'Khoảng tin cậy 95%', overall: 'Chỉ số chung',
      notEnough: 'không đủ số phiếu', noData: 'Chưa có số liệu để vẽ biểu đồ.',
      failed: 'Không đọc được số liệu của biểu đồ.', noLibrary: 'Không tải được thư viện vẽ biểu đồ.'
    },
    en: {
      index: 'Index (%)', interval: '95% interval', overall: 'Overall index',
      notEnough: 'not enough answers', noData: 'No figures to chart yet.',
      failed: 'The chart’s figures could not be read.', noLibrary: 'The charting library could not be loaded.'
    }
  }[lang];
  // Vietnamese writes 82,66 where English writes 82.66
  var number = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN',
    { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var whole = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 0 });
  // the stylesheet's colours (WCAG AA on white), with shapes and dashes so lines differ without colour
  var SERIES = [
    { color: '#0b5394', point: 'circle', dash: [] },
    { color: '#1e6b34', point: 'rect', dash: [6, 4] },
    { color: '#a4161a', point: 'triangle', dash: [2, 3] },
    { color: '#7a4b00', point: 'rectRot', dash: [10, 3, 2, 3] }
  ];
  var INTERVAL_COLOR = '#1b1b1b';

  function pick(pair) {
    return pair ? (pair[lang] || pair.vi || '') : '';
  }

  function fmt(value) {
    return value === null || value === undefined ? '—' : number.format(value);
  }

  function percentAxis(horizontal) {
    var axis = { min: 0, max: 100, title: { display: true, text: TEXT.index },
                 ticks: { callback: function (v) { return whole.format(v); } } };
    return horizontal ? { x: axis } : { y: axis };
  }

  function tooltip() {
    return {
      callbacks: {
        label: function (ctx) {
          var raw = ctx.raw;
          if (Array.isArray(raw)) {
            return TEXT.interval + ': ' + fmt(raw[0]) + '–' + fmt(raw[1]);
          }
          return ctx.dataset.label + ': ' + fmt(raw);
        }
      }
    };
  }

  /* Bars of the index with a thin dark bar over each for its 95% interval.
     rows: [{label, index, ci}] with index null when there are not enough answers. */
  function barsWithIntervals(rows, horizontal) {
    if (rows.every(function (r) { return r.index === null; })) { return null; }
    return {
      type: 'bar',
      data: {
        labels: rows.map(function (r) { return r.index === null ? r.label + ' (' + TEXT.notEnough + ')' : r.label; }),
        datasets: [
          { label: TEXT.interval, data: rows.map(function (r) { return r.ci; }), backgroundColor: INTERVAL_COLOR,
            barPercentage: 0.04, grouped: false },
          { label: TEXT.index, data: rows.map(function (r) { return r.index; }), backgroundColor: 'rgba(11, 83, 148, 0.55)',
            borderColor: SERIES[0].color, borderWidth: 1, barPercentage: 0.7, grouped: false }
        ]
      },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        scales: percentAxis(horizontal),
        plugins: { legend: { display: true }, tooltip: tooltip() }
      }
    };
  }

  var BUILD = {
    criteria: function (data) {
      var cell = data.cells[0];
      if (!cell) { return null; }
      var rows = [{ label: TEXT.overall, index: cell.overall.index, ci: cell.overall.ci }];
      data.criteria.forEach(function (c) {
        var crit = cell.criteria[c.code];
        rows.push({ label: pick(c), index: crit.index, ci: crit.ci });
      });
      return barsWithIntervals(rows, false);
    },
    breakdown: function (data, key) {
      if (!data.cells.length) { return null; }
      return barsWithIntervals(data.cells.map(function (cell) {
        return { label: pick(cell.label[key]), index: cell.overall.index, ci: cell.overall.ci };
      }), false);
    },
    ranking: function (data) {
      var ranked = data.units.filter(function (u) { return u.ranked; });
      if (!ranked.length) { return null; }
      return barsWithIntervals(ranked.map(function (u) {
        return { label: u.rank + '. ' + pick(u.label), index: u.index, ci: u.ci };
      }), true);
    },
    trend: function (data, key) {
      if (!data.cells.some(function (cell) { return cell.enough; })) { return null; }
      var series = [{ label: TEXT.overall, value: function (cell) { return cell.overall.index; } }];
      data.criteria.forEach(function (c) {
        series.push({ label: pick(c), value: function (cell) { return cell.criteria[c.code].index; } });
      });
      return {
        type: 'line',
        data: {
          labels: data.cells.map(function (cell) { return pick(cell.label[key]); }),
          datasets: series.map(function (s, i) {
            return { label: s.label, data: data.cells.map(s.value), borderColor: SERIES[i].color,
                     backgroundColor: SERIES[i].color, pointStyle: SERIES[i].point, pointRadius: 5,
                     borderDash: SERIES[i].dash, spanGaps: false };
          })
        },
        options: { scales: percentAxis(false),
                   plugins: { legend: { labels: { usePointStyle: true } }, tooltip: tooltip() } }
      };
    }
  };

  function say(canvas, text) {
    var status = canvas.parentNode.nextElementSibling;
    if (status && status.classList.contains('chart-status')) { status.textContent = text; }
  }

  function draw(canvas) {
    var build = BUILD[canvas.dataset.chart];
    if (!build) { return; }
    try {
      var source = document.getElementById(canvas.dataset.figures);
      var config = build(JSON.parse(source.textContent), canvas.dataset.key);
      if (!config) {
        canvas.parentNode.hidden = true;
        say(canvas, TEXT.noData);
      } else {
        config.options.animation = false;
        config.options.responsive = true;
        config.options.maintainAspectRatio = false;
        new window.Chart(canvas, config);
      }
      canvas.dataset.ready = 'yes';
    } catch (error) {
      say(canvas, TEXT.failed);
      canvas.dataset.ready = 'error';
    }
  }

  function start() {
    var canvases = document.querySelectorAll('canvas[data-chart][data-figures]');
    if (!canvases.length) { return; }
    if (!window.Chart) {
      canvases.forEach(function (c) { say(c, TEXT.noLibrary); c.dataset.ready = 'error'; });
      return;
    }
    window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = '#1b1b1b';
    canvases.forEach(draw);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
