// Evaluation page: the period picker shows the fields of the chosen kind; the bar chart of
// the ranked scores (or satisfaction rates, or resolution shares) is drawn from the
// server's JSON (#ev-chart-data): the same figures as the table.
(function () {
  "use strict";
  var kind = document.getElementById("ev-kind");
  function showFields() {
    document.querySelectorAll("#ev-period [data-kinds]").forEach(function (label) {
      var on = label.dataset.kinds.split(" ").indexOf(kind.value) >= 0;
      label.hidden = !on;
      label.querySelectorAll("input, select").forEach(function (field) { field.disabled = !on; });
    });
  }
  if (kind) {
    kind.addEventListener("change", showFields);
    showFields();
  }

  var el = document.getElementById("ev-chart");
  var source = document.getElementById("ev-chart-data");
  if (!el || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var GRADE = { A: "#17b26a", B: "#1f5fbf", C: "#f5b400", D: "#f79009", E: "#e5322d" };
  var chart = echarts.init(el);
  var many = data.names.length > 40;
  var common = {
    animationDuration: 500,
    grid: { left: 40, right: 40, top: 28, bottom: many ? 24 : 56 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: {
      type: "category",
      data: data.names,
      axisLabel: {
        interval: 0,
        rotate: data.names.length > 12 ? 30 : 0,
        fontSize: 11,
        show: !many,
        // Long unit names are cut; the tooltip shows them whole.
        formatter: function (name) { return name.length > 7 ? name.slice(0, 6) + "…" : name; },
      },
      axisTick: { show: false },
    },
    yAxis: { type: "value", max: 100, splitLine: { lineStyle: { color: "#eef0f4" } } },
  };
  var option;
  if (data.kind === "stack") {
    var colours = ["#1f5fbf", "#f5b400", "#e5322d"];
    option = Object.assign(common, {
      legend: { top: 0, right: 0 },
      series: data.series.map(function (s, i) {
        return { name: s.name, type: "bar", stack: "share", barMaxWidth: 36, data: s.data, itemStyle: { color: colours[i] } };
      }),
    });
  } else {
    option = Object.assign(common, {
      series: [{
        name: data.title,
        type: "bar",
        barMaxWidth: 32,
        data: data.values.map(function (v, i) {
          var grade = data.grades[i];
          var colour = grade ? GRADE[grade] || "#1f5fbf" : (data.target !== null && v < data.target ? "#f79009" : "#17b26a");
          return { value: v, itemStyle: { color: colour, borderRadius: [3, 3, 0, 0] } };
        }),
        label: { show: !many && data.names.length <= 24, position: "top", fontSize: 11, color: "#344054" },
        markLine: data.target !== null && data.target !== undefined ? {
          symbol: "none", label: { formatter: "{c}%" }, lineStyle: { color: "#b42318", type: "dashed" }, data: [{ yAxis: data.target }],
        } : undefined,
      }],
    });
  }
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
  chart.on("finished", function () { document.body.dataset.chartDrawn = "1"; });
})();
