/* The sequence performance page's charts (outreach_queue/admin/performance.py builds their data and
 * hands it over in <script id="performance-charts" type="application/json">). Chart.js 4 is loaded
 * before this file from vendor/chartjs. No data (an empty range) means no script block: nothing to draw. */
"use strict";

(function () {
  // The admin's own palette, so the charts read as part of the page.
  var COLORS = { ready: "#79aec8", sent: "#417690", replied: "#e0b23a", paid: "#2e8b57", d7: "#a6cfe0", d14: "#417690", d30: "#205067", holdout: "#9aa5b1" };

  function percentAxis(max) {
    return {
      beginAtZero: true,
      suggestedMax: max,
      ticks: { callback: function (value) { return value + "%"; } },
    };
  }

  // Chart.js has no error bars: this draws each bar's 95% interval (dataset.intervals[i] = [low, high],
  // in the bar's units) as a whisker with caps, over the bars.
  var intervalWhiskers = {
    id: "intervalWhiskers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var y = chart.scales.y;
      chart.data.datasets.forEach(function (dataset, index) {
        var meta = chart.getDatasetMeta(index);
        if (!dataset.intervals || meta.hidden) { return; }
        meta.data.forEach(function (bar, i) {
          var interval = dataset.intervals[i];
          if (!interval || interval[0] === null || interval[1] === null) { return; }
          var top = y.getPixelForValue(interval[1]);
          var bottom = y.getPixelForValue(interval[0]);
          var half = Math.min(bar.width / 4, 10);
          ctx.save();
          ctx.strokeStyle = "#333";
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - half, top); ctx.lineTo(bar.x + half, top);
          ctx.moveTo(bar.x - half, bottom); ctx.lineTo(bar.x + half, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
    },
  };

  function bar(label, data, color) {
    return { label: label, data: data, backgroundColor: color, borderColor: color, borderWidth: 1 };
  }

  function options(extra) {
    var base = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // drawn at once: a screenshot or a quick look sees the final chart
      plugins: { legend: { position: "bottom" } },
    };
    return Object.assign(base, extra || {});
  }

  function drawFunnel(data) {
    var canvas = document.getElementById("chart-funnel");
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          bar("Ready", data.ready, COLORS.ready),
          bar("Sent", data.sent, COLORS.sent),
          bar("Replied", data.replied, COLORS.replied),
          bar("Paid within 14 days", data.paid14, COLORS.paid),
        ],
      },
      options: options({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
    });
  }

  function maxOf(lists) {
    var found = 0;
    lists.forEach(function (list) {
      list.forEach(function (value) {
        var v = Array.isArray(value) ? value[1] : value;
        if (v !== null && v > found) { found = v; }
      });
    });
    return Math.min(100, Math.ceil(found / 10) * 10 || 10);
  }

  function percentTooltip() {
    return {
      callbacks: {
        label: function (item) {
          var value = item.parsed.y === null ? "no emails" : item.parsed.y + "%";
          var interval = item.dataset.intervals && item.dataset.intervals[item.dataIndex];
          var text = item.dataset.label + ": " + value;
          if (interval && interval[0] !== null) { text += " (95% interval " + interval[0] + "% – " + interval[1] + "%)"; }
          return text;
        },
      },
    };
  }

  function drawPaidWithin(data) {
    var canvas = document.getElementById("chart-paid-within");
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          bar("Within 7 days", data["7"], COLORS.d7),
          bar("Within 14 days", data["14"], COLORS.d14),
          bar("Within 30 days", data["30"], COLORS.d30),
        ],
      },
      options: options({
        scales: { y: percentAxis(maxOf([data["7"], data["14"], data["30"]])) },
        plugins: { legend: { position: "bottom" }, tooltip: percentTooltip() },
      }),
    });
  }

  function drawVariants(experiment) {
    var canvas = document.getElementById(experiment.canvas);
    if (!canvas) { return; }
    // The holdout (no email) in grey: the baseline the variants are measured against.
    var colors = experiment.holdout.map(function (isHoldout) { return isHoldout ? COLORS.holdout : COLORS.paid; });
    var dataset = bar("Paid within 14 days", experiment.rates, colors);
    dataset.intervals = experiment.intervals;
    new Chart(canvas, {
      type: "bar",
      data: { labels: experiment.keys, datasets: [dataset] },
      options: options({
        scales: { y: percentAxis(maxOf([experiment.rates, experiment.intervals])) },
        plugins: { legend: { display: false }, tooltip: percentTooltip() },
      }),
      plugins: [intervalWhiskers],
    });
  }

  function draw() {
    var source = document.getElementById("performance-charts");
    if (!source || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    drawFunnel(charts.funnel);
    drawPaidWithin(charts.paidWithin);
    charts.variants.forEach(drawVariants);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
