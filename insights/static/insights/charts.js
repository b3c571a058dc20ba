/* Draws every chart on a report page from the JSON its table wrote beside it. The table under
   the chart holds the same figures for anyone who cannot see the chart. */
(function () {
  "use strict";
  var palette = ["#205493", "#e07b00", "#2e8540", "#981b1e", "#6f42c1", "#0b7f8a", "#8a6d00", "#4a4a4a"];

  function format(kind, value) {
    if (value === null || value === undefined) { return "—"; }
    if (kind === "money") { return "£" + value.toLocaleString("en-GB", {maximumFractionDigits: 0}); }
    if (kind === "percent") { return (value * 100).toFixed(1) + "%"; }
    return value.toLocaleString("en-GB");
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var kinds = data.series.map(function (s) { return s.kind; });
    new Chart(canvas, {
      type: data.kind,
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {label: s.label, data: s.values, borderColor: palette[i % palette.length],
                  backgroundColor: palette[i % palette.length], spanGaps: true, tension: 0.2};
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {x: {stacked: data.stacked}, y: {stacked: data.stacked, beginAtZero: data.kind === "bar",
                 ticks: {callback: function (v) { return format(kinds[0], v); }}}},
        plugins: {tooltip: {callbacks: {label: function (ctx) {
          return ctx.dataset.label + ": " + format(kinds[ctx.datasetIndex], ctx.parsed.y);
        }}}}
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
