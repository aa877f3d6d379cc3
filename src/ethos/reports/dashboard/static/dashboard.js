// Draws the Plotly figures whose JSON the page carries; a click on a point opens its run.
"use strict";
(function () {
  document.querySelectorAll("script.plot-data").forEach(function (source) {
    var target = document.getElementById(source.dataset.target);
    var figure = JSON.parse(source.textContent);
    var config = { displaylogo: false, responsive: true };
    window.Plotly.newPlot(target, figure.data, figure.layout, config).then(function (plot) {
      plot.on("plotly_click", function (event) {
        var runId = event.points[0].customdata;
        if (runId) { window.location.href = "/runs/" + encodeURIComponent(runId); }
      });
    });
  });
})();
