// Charts of the series and attendance pages, drawn with the vendored Chart.js.
// Each <canvas data-chart="ID"> draws the JSON of <script type="application/json" id="ID">:
// {labels, stacked, horizontal, datasets: [{type: "bar" | "line", label, data}]}.
// The labels come translated from the server; the table beside each chart holds the same numbers.
(function () {
  "use strict";
  var COLOURS = ["#0d6efd", "#fd7e14", "#198754", "#6c757d"];

  function dataset(spec, index) {
    var colour = COLOURS[index % COLOURS.length];
    var line = spec.type === "line";
    return {
      type: spec.type || "bar",
      label: spec.label,
      data: spec.data,
      backgroundColor: colour,
      borderColor: colour,
      pointRadius: line ? 3 : 0,
      fill: false,
      order: line ? 0 : 1  // lines in front of the bars
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var stacked = Boolean(spec.stacked);
    new Chart(canvas, {
      data: {labels: spec.labels, datasets: spec.datasets.map(dataset)},
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: {legend: {display: spec.datasets.length > 1, position: "bottom"}},
        scales: {
          x: {stacked: stacked, beginAtZero: true, ticks: {precision: 0}},
          y: {stacked: stacked, beginAtZero: true, ticks: {precision: 0}}
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
