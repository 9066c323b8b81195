/* Reports dashboard: the 52-week trend chart (Chart.js) and the print button.
   Data comes from the json_script block "trend-data"; no inline script (CSP). */
(function () {
  "use strict";

  var COLOURS = {
    bcci_return_rate: "#0d6efd",
    bcci_intake_rate: "#6f42c1",
    on_time_rate: "#198754",
    online_rate: "#fd7e14",
    jn_compliance: "#20c997",
    satisfaction_rate: "#d63384",
    portal_sync_rate: "#6c757d"
  };

  function drawTrend() {
    var source = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!source || !canvas || typeof Chart === "undefined") {
      return null;
    }
    var trend = JSON.parse(source.textContent);
    var big = window.matchMedia("(min-width: 1600px)").matches;
    Chart.defaults.font.size = big ? 18 : 14;
    var datasets = trend.datasets.map(function (set) {
      return {
        label: set.label,
        data: set.data,
        borderColor: COLOURS[set.metric] || "#333",
        backgroundColor: COLOURS[set.metric] || "#333",
        borderWidth: set.metric === "bcci_return_rate" ? 4 : 2,
        pointRadius: 2,
        spanGaps: true,
        tension: 0.2
      };
    });
    var target = trend.targets.bcci_return_rate;
    if (target !== undefined) {
      datasets.push({
        label: trend.targetLabel + " – " + trend.datasets[0].label,
        data: trend.labels.map(function () { return target; }),
        borderColor: COLOURS.bcci_return_rate,
        borderDash: [8, 6],
        borderWidth: 2,
        pointRadius: 0,
        fill: false
      });
    }
    return new Chart(canvas, {
      type: "line",
      data: { labels: trend.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { min: 0, max: 100, ticks: { callback: function (value) { return value + " %"; } } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y;
                return context.dataset.label + ": " + (value === null ? "—" : value.toFixed(1) + " %");
              }
            }
          }
        }
      }
    });
  }

  function ready() {
    var chart = drawTrend();
    if (chart) {
      window.addEventListener("beforeprint", function () { chart.resize(); });
      window.addEventListener("afterprint", function () { chart.resize(); });
    }
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
