// The figures page's bar chart (ECharts): on-time closure and satisfaction per street vs the target.
(function () {
  "use strict";
  var el = document.getElementById("figures-chart");
  var dataEl = document.getElementById("figures-data");
  if (!el || !dataEl || !window.echarts) { return; }
  var d = JSON.parse(dataEl.textContent);
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    color: ["#1f5fbf", "#1a7f37"],
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: d.streets, axisLabel: { interval: 0, rotate: d.streets.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      {
        name: d.labels.onTime, type: "bar", data: d.onTime,
        markLine: {
          silent: true, symbol: "none", lineStyle: { color: "#c0362c", type: "dashed" },
          label: { position: "insideStartTop", color: "#c0362c", formatter: d.labels.target + " " + d.target + "%" },
          data: [{ yAxis: d.target }]
        }
      },
      { name: d.labels.satisfaction, type: "bar", data: d.satisfaction }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
