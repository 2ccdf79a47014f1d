// The leaders' cockpit: fetches the figures from the JSON view every minute and draws them
// with ECharts (charts) and Leaflet (the map: grids coloured by this month's reports, and a
// heat layer of the report points drawn on a canvas here, with no extra package).
// A failed refresh keeps the last figures on screen and says so in the header.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cockpit-config").textContent);
  var T = config.labels;
  var TZ = "Asia/Shanghai";
  // Numbers and the weekday in the page's language (Chinese unless the user chose English).
  var LOCALE = /^en/.test(document.documentElement.lang) ? "en" : "zh-CN";

  var COLOURS = {
    text: "#d6e6ff",
    muted: "#7f9bc4",
    axis: "#2a4a7a",
    split: "rgba(64, 120, 200, 0.18)",
    cyan: "#35d0ff",
    blue: "#3a7bff",
    green: "#2ee6a6",
    amber: "#ffc857",
    red: "#ff5a5f",
    series: ["#35d0ff", "#3a7bff", "#2ee6a6", "#ffc857", "#ff8a5b", "#b58cff", "#ff5a8a"]
  };
  // One colour per channel, whichever channels a month has.
  var CHANNEL_COLOURS = {
    inspector: "#35d0ff", operator: "#3a7bff", public: "#2ee6a6", hotline: "#ffc857",
    video: "#ff8a5b", leader: "#b58cff", media: "#ff5a8a"
  };
  // The choropleth's classes, dark to bright; grids without a report keep only their outline.
  var DENSITY = ["#12306b", "#1a4f9c", "#2073c9", "#2a9be0", "#3fc4f0", "#8ae9ff"];

  var state = { data: null, charts: {}, fetchedAt: null, mapError: null };

  function number(n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString(LOCALE);
  }
  function format(template, values) {
    // Labels carry named placeholders, e.g. "本年结案 {n} 件".
    return template.replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? values[key] : whole; });
  }
  function fontSize() {
    // Chart text follows the screen: 14 px at 1920×1080, 12 px on a laptop, up to 24 px on 4K.
    return Math.round(Math.min(24, Math.max(12, Math.min(window.innerWidth / 137, window.innerHeight / 77))));
  }
  function shorten(name, n) {
    return name.length > n ? name.slice(0, n - 1) + "…" : name;
  }

  function casesLink(params) {
    // The workbench list of the matching cases (全部案件 with filters), in the user's scope.
    return config.casesUrl + "?" + new URLSearchParams(Object.assign({ queue: "all" }, params)).toString();
  }
  function thisMonth(extra) {
    var d = state.data;
    return Object.assign({ date_from: d.month_first_day, date_to: d.today }, extra);
  }
  function openCases(params) {
    window.open(casesLink(params), "_blank", "noopener");
  }

  //
  // Header: clock, freshness, warning
  //

  var clock = document.getElementById("ck-clock");
  function tick() {
    var parts = {};
    new Intl.DateTimeFormat(LOCALE, {
      timeZone: TZ, year: "numeric", month: "numeric", day: "numeric",
      weekday: "long", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    // The date is left out on narrower screens (CSS), the time always shows.
    clock.querySelector(".ck-date").textContent =
      format(T.clock, { year: parts.year, month: parts.month, day: parts.day }) + " " + parts.weekday + " ";
    clock.querySelector(".ck-time").textContent = parts.hour + ":" + parts.minute + ":" + parts.second;
  }
  tick();
  setInterval(tick, 1000);

  function showUpdated(data) {
    // The server's time of the figures, in Beijing time (HH:MM:SS).
    document.getElementById("ck-updated").textContent = format(T.updated, { time: data.now.slice(11, 19) });
  }
  function showWarning(message, detail) {
    // In place of 更新于: the figures on screen are older than they should be.
    var box = document.getElementById("ck-warning");
    box.textContent = message;
    box.title = detail || "";
    box.hidden = !message;
    document.getElementById("ck-updated").hidden = !!message;
  }

  // Full screen for a wall display (where the browser allows it).
  var fullscreen = document.getElementById("ck-fullscreen");
  if (document.fullscreenEnabled) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
    });
  }

  //
  // Key figures
  //

  // Key figures that open their cases: today's and this month's reports, the overdue queue.
  var KPI_LINKS = {
    reported_today: function (d) { return casesLink({ date_from: d.today, date_to: d.today }); },
    reported_month: function (d) { return casesLink(thisMonth({})); },
    overdue: function () { return config.casesUrl + "?queue=overdue"; }
  };
  function renderKpiLinks(data) {
    Object.keys(KPI_LINKS).forEach(function (key) {
      var box = document.querySelector('[data-kpi="' + key + '"]').parentNode;
      box.dataset.href = KPI_LINKS[key](data);
      box.classList.add("ck-link");
    });
  }
  document.querySelectorAll(".ck-kpi").forEach(function (box) {
    box.addEventListener("click", function () {
      if (box.dataset.href) { window.open(box.dataset.href, "_blank", "noopener"); }
    });
  });

  function renderKpis(counts) {
    document.querySelectorAll("[data-kpi]").forEach(function (el) {
      var value = counts[el.dataset.kpi];
      el.textContent = el.dataset.unit && value !== null ? value.toFixed(1) : number(value);
      if (el.dataset.unit && value !== null) {
        var unit = document.createElement("small");
        unit.textContent = el.dataset.unit;
        el.appendChild(unit);
      }
    });
  }

  //
  // Charts
  //

  function base(extra) {
    var fs = fontSize();
    var option = {
      backgroundColor: "transparent",
      textStyle: { color: COLOURS.text, fontSize: fs, fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" },
      tooltip: {
        backgroundColor: "rgba(5, 16, 40, 0.92)",
        borderColor: "rgba(64, 158, 255, 0.5)",
        textStyle: { color: COLOURS.text, fontSize: fs }
      },
      animationDuration: 600
    };
    return Object.assign(option, extra);
  }
  function valueAxis(extra) {
    return Object.assign({
      type: "value",
      axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1 },
      axisLine: { show: false },
      splitLine: { lineStyle: { color: COLOURS.split, type: "dashed" } }
    }, extra);
  }
  function categoryAxis(data, extra) {
    return Object.assign({
      type: "category",
      data: data,
      axisLabel: { color: COLOURS.text, fontSize: fontSize(), interval: 0 },
      axisLine: { lineStyle: { color: COLOURS.axis } },
      axisTick: { show: false }
    }, extra);
  }
  function gradient(from, to, horizontal) {
    return new echarts.graphic.LinearGradient(0, horizontal ? 0 : 1, horizontal ? 1 : 0, 0, [
      { offset: 0, color: from }, { offset: 1, color: to }
    ]);
  }
  function legend(extra) {
    return Object.assign({ top: 4, right: 8, itemWidth: 14, itemHeight: 8, textStyle: { color: COLOURS.text, fontSize: fontSize() } }, extra);
  }
  function rowsThatFit(key, reserved) {
    // A bar chart shows as many rows as its panel holds at a readable size (a laptop: fewer).
    var height = state.charts[key].getHeight() - reserved;
    return Math.max(4, Math.floor(height / (fontSize() * 1.4)));
  }
  function empty(option) {
    // A panel with nothing to show says so instead of drawing bare axes.
    option.graphic = [{ type: "text", left: "center", top: "middle", style: { text: T.noData, fill: COLOURS.muted, fontSize: fontSize() + 2 } }];
    return option;
  }

  var builders = {
    units: function (data) {
      var rows = data.units.slice(0, rowsThatFit("units", 34)).reverse();  // the busiest unit on top
      var option = base({
        grid: { left: 8, right: 40, top: 30, bottom: 6, containLabel: true },
        legend: legend({ data: [T.open, T.overdueOfWhich] }),
        tooltip: Object.assign(base().tooltip, { trigger: "axis", axisPointer: { type: "shadow" } }),
        xAxis: valueAxis({ minInterval: 1 }),
        yAxis: categoryAxis(rows.map(function (r) { return r.name; }), {
          axisLabel: { color: COLOURS.text, fontSize: fontSize(), interval: 0, formatter: function (v) { return shorten(v, 9); } }
        }),
        series: [
          {
            name: T.open, type: "bar", barWidth: "52%", barMaxWidth: 18,
            data: rows.map(function (r) {
              // The centres' row (cases not dispatched yet) is not a unit: drawn in violet.
              return r.centre ? { value: r.open, itemStyle: { color: gradient("rgba(181,140,255,0.35)", "#b58cff", true) } } : r.open;
            }),
            itemStyle: { color: gradient("rgba(58,123,255,0.35)", COLOURS.cyan, true), borderRadius: [0, 3, 3, 0] },
            label: { show: true, position: "right", color: COLOURS.text, fontSize: fontSize() - 1 }
          },
          {
            // Overdue cases are a part of the open ones: drawn over the same bar.
            name: T.overdueOfWhich, type: "bar", barWidth: "52%", barMaxWidth: 18, barGap: "-100%", z: 3,
            data: rows.map(function (r) { return r.overdue || null; }),
            itemStyle: { color: gradient("rgba(255,90,95,0.55)", COLOURS.red, true), borderRadius: [0, 3, 3, 0] }
          }
        ]
      });
      return rows.length ? option : empty(option);
    },

    trend: function (data) {
      var t = data.trend;
      function area(colour) {
        return { color: gradient("rgba(0,0,0,0)", colour, false) };
      }
      return base({
        grid: { left: 8, right: 16, top: 34, bottom: 4, containLabel: true },
        legend: legend({ data: [T.reported, T.closed] }),
        tooltip: Object.assign(base().tooltip, { trigger: "axis" }),
        xAxis: categoryAxis(t.days.map(function (d) { return d.slice(5).replace("-", "/"); }), {
          boundaryGap: false, axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1 }
        }),
        yAxis: valueAxis({ minInterval: 1 }),
        series: [
          { name: T.reported, type: "line", smooth: true, symbol: "none", data: t.reported,
            lineStyle: { width: 2, color: COLOURS.cyan }, itemStyle: { color: COLOURS.cyan }, areaStyle: area("rgba(53,208,255,0.35)") },
          { name: T.closed, type: "line", smooth: true, symbol: "none", data: t.closed,
            lineStyle: { width: 2, color: COLOURS.green }, itemStyle: { color: COLOURS.green }, areaStyle: area("rgba(46,230,166,0.3)") }
        ]
      });
    },

    channels: function (data) {
      var rows = data.channels;
      var total = rows.reduce(function (s, r) { return s + r.count; }, 0);
      // On a narrow panel the ring moves left and shrinks to leave the legend its room.
      var narrow = state.charts.channels.getWidth() < 360;
      var ringX = narrow ? "26%" : "31%";
      var option = base({
        color: COLOURS.series,
        tooltip: Object.assign(base().tooltip, { trigger: "item", formatter: "{b}<br>{c} " + T.pieces + "（{d}%）<br><small>" + T.clickToList + "</small>" }),
        legend: {
          orient: "vertical", right: 10, top: "middle", itemWidth: 12, itemHeight: 10, itemGap: fontSize() - 4,
          textStyle: { color: COLOURS.text, fontSize: fontSize() },
          formatter: function (name) {
            var row = rows.filter(function (r) { return r.name === name; })[0];
            return name + "  " + number(row.count) + "  " + (total ? (100 * row.count / total).toFixed(1) : "0") + "%";
          }
        },
        title: {
          text: number(total), subtext: T.reportsThisMonth, left: ringX, top: "center", textAlign: "center",
          textStyle: { color: "#ffffff", fontSize: fontSize() + 8, fontWeight: 700 },
          subtextStyle: { color: COLOURS.muted, fontSize: fontSize() - 1 }, itemGap: 2
        },
        series: [{
          type: "pie", radius: narrow ? ["44%", "68%"] : ["48%", "74%"], center: [ringX, "50%"],
          label: { show: false }, labelLine: { show: false },
          itemStyle: { borderColor: "#071631", borderWidth: 2 },
          data: rows.map(function (r) {
            return { name: r.name, value: r.count, itemStyle: { color: CHANNEL_COLOURS[r.key] || COLOURS.muted } };
          })
        }]
      });
      if (!rows.length) {
        // No ring, no total: an empty month says so once.
        option.series = [];
        option.title = { show: false };
        return empty(option);
      }
      return option;
    },

    categories: function (data) {
      var rows = data.categories.slice(0, rowsThatFit("categories", 20)).reverse();
      state.shownCategories = rows;
      var option = base({
        grid: { left: 8, right: 44, top: 10, bottom: 6, containLabel: true },
        tooltip: Object.assign(base().tooltip, {
          trigger: "item",
          formatter: function (p) { return p.name + "<br>" + number(p.value) + " " + T.pieces + "<br><small>" + T.clickToList + "</small>"; }
        }),
        xAxis: valueAxis({ minInterval: 1 }),
        yAxis: categoryAxis(rows.map(function (r) { return r.name; }), {
          axisLabel: { color: COLOURS.text, fontSize: fontSize(), interval: 0, formatter: function (v) { return shorten(v, 8); } }
        }),
        series: [{
          name: T.reported, type: "bar", barWidth: "56%", barMaxWidth: 18,
          data: rows.map(function (r, i) {
            var top3 = i >= rows.length - 3;
            return { value: r.count, itemStyle: { color: top3 ? gradient("rgba(255,138,91,0.35)", "#ff8a5b", true) : gradient("rgba(58,123,255,0.3)", COLOURS.cyan, true), borderRadius: [0, 3, 3, 0] } };
          }),
          label: { show: true, position: "right", color: COLOURS.text, fontSize: fontSize() - 1 }
        }]
      });
      return rows.length ? option : empty(option);
    },

    satisfaction: function (data) {
      var s = data.satisfaction;
      var rates = s.rate.filter(function (r) { return r !== null; });
      var low = Math.min.apply(null, rates.concat([s.target]));
      var option = base({
        grid: { left: 8, right: 8, top: 34, bottom: 4, containLabel: true },
        legend: legend({ data: [T.satisfactionRate, format(T.target, { n: s.target }), T.rated] }),
        tooltip: Object.assign(base().tooltip, {
          trigger: "axis",
          formatter: function (items) {
            var i = items[0].dataIndex;
            return s.months[i] + "<br>" + format(T.target, { n: s.target }) + "<br>" + T.satisfactionRate + "：" + (s.rate[i] === null ? "—" : s.rate[i] + "%") +
              "<br>" + T.rated + "：" + number(s.rated[i]) + "　" + T.satisfied + "：" + number(s.satisfied[i]);
          }
        }),
        xAxis: categoryAxis(s.months.map(function (m) { return Number(m.slice(5)) + T.monthSuffix; }), {
          axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1 }
        }),
        yAxis: [
          valueAxis({ min: Math.max(0, Math.floor(low - 3)), max: 100, axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1, formatter: "{value}%" } }),
          valueAxis({ splitLine: { show: false }, minInterval: 1, axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1 } })
        ],
        series: [
          { name: T.rated, type: "bar", yAxisIndex: 1, barWidth: "45%", data: s.rated,
            itemStyle: { color: "rgba(58, 123, 255, 0.28)", borderRadius: [2, 2, 0, 0] } },
          {
            name: T.satisfactionRate, type: "line", smooth: true, data: s.rate, connectNulls: false,
            symbol: "circle", symbolSize: 6,
            lineStyle: { width: 2.5, color: COLOURS.green },
            itemStyle: {
              color: function (p) { return p.value !== null && p.value < s.target ? COLOURS.amber : COLOURS.green; }
            }
          },
          {
            name: format(T.target, { n: s.target }), type: "line", symbol: "none", silent: true,
            data: s.months.map(function () { return s.target; }),
            lineStyle: { color: COLOURS.amber, type: "dashed", width: 1.5 }, itemStyle: { color: COLOURS.amber }
          }
        ]
      });
      return rates.length ? option : empty(option);
    },

    resolution: function (data) {
      var r = data.resolution;
      var modeColours = { service: COLOURS.green, management: COLOURS.cyan, enforcement: COLOURS.amber };
      var names = r.modes.map(function (m) { return m.name; });
      var option = base({
        grid: { left: 8, right: 16, top: 34, bottom: 24, containLabel: true },
        legend: legend({ data: [T.actual, T.targetShare] }),
        tooltip: Object.assign(base().tooltip, {
          trigger: "axis", axisPointer: { type: "shadow" },
          formatter: function (items) {
            var m = r.modes[items[0].dataIndex];
            return m.name + "<br>" + T.actual + "：" + (m.share === null ? "—" : m.share + "%") + "（" + number(m.count) + " " + T.pieces + "）<br>" + T.targetShare + "：" + m.target + "%";
          }
        }),
        xAxis: categoryAxis(names, {
          axisLabel: {
            interval: 0, color: COLOURS.text, fontSize: fontSize() + 1, lineHeight: fontSize() + 4,
            formatter: function (name, i) { return name + "\n{t|" + format(T.target, { n: r.modes[i].target }) + "}"; },
            rich: { t: { color: COLOURS.muted, fontSize: fontSize() - 1 } }
          }
        }),
        yAxis: valueAxis({ max: 100, axisLabel: { color: COLOURS.muted, fontSize: fontSize() - 1, formatter: "{value}%" } }),
        series: [
          {
            name: T.actual, type: "bar", barWidth: "26%",
            data: r.modes.map(function (m) { return { value: m.share, itemStyle: { color: gradient(modeColours[m.key] + "66", modeColours[m.key], false), borderRadius: [3, 3, 0, 0] } }; }),
            itemStyle: { color: COLOURS.green },
            label: { show: true, position: "top", color: "#ffffff", fontSize: fontSize() + 1, fontWeight: 600, formatter: function (p) { return p.value === null ? "—" : p.value.toFixed(1) + "%"; } }
          },
          {
            name: T.targetShare, type: "bar", barWidth: "26%",
            data: r.modes.map(function (m) { return m.target; }),
            itemStyle: { color: "rgba(255, 255, 255, 0.04)", borderColor: COLOURS.muted, borderType: "dashed", borderWidth: 1.5 }
          }
        ],
        graphic: [{
          type: "text", left: "center", bottom: 4,
          style: {
            text: format(T.closedThisYear, { n: number(r.recorded + r.unrecorded) }) + (r.unrecorded ? "　" + format(T.unrecorded, { n: number(r.unrecorded) }) : ""),
            fill: COLOURS.muted, fontSize: fontSize() - 1
          }
        }]
      });
      return r.recorded ? option : empty(option);
    }
  };

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    state.charts[el.dataset.chart] = echarts.init(el, null, { renderer: "canvas" });
  });

  state.charts.categories.on("click", function (p) {
    var row = state.shownCategories && state.shownCategories[p.dataIndex];
    if (row) { openCases(thisMonth({ category: row.id })); }
  });
  state.charts.channels.on("click", function (p) {
    var row = state.data.channels.filter(function (r) { return r.name === p.name; })[0];
    if (row) { openCases(thisMonth({ channel: row.key })); }
  });

  // Each chart animates in once; a refresh redraws only the charts whose figures (or size)
  // changed, without the entry animation, so that the wall screen does not flash every minute.
  var drawn = {};
  function renderCharts(data) {
    Object.keys(state.charts).forEach(function (key) {
      var chart = state.charts[key];
      var signature = JSON.stringify(data[key]) + "|" + chart.getWidth() + "x" + chart.getHeight();
      if (drawn[key] === signature) { return; }
      var option = builders[key](data);
      if (drawn[key]) { option.animation = false; }
      chart.setOption(option, true);
      drawn[key] = signature;
    });
  }

  //
  // The map
  //

  var mapEl = document.getElementById("ck-map");
  var map = L.map(mapEl, { zoomSnap: 0.1, zoomControl: false, attributionControl: !!config.tileUrl, preferCanvas: false });
  L.control.zoom({ position: "bottomleft" }).addTo(map);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution }).addTo(map);
  }
  map.setView([25.68, 114.31], 13);
  map.createPane("ck-heat").style.zIndex = 450;
  map.createPane("ck-outline").style.zIndex = 460;
  map.getPane("ck-heat").style.pointerEvents = "none";
  map.getPane("ck-outline").style.pointerEvents = "none";

  // A heat layer on one canvas: each point stamps a blurred disc into the alpha channel, and
  // the summed alpha is mapped to a colour ramp (the simpleheat technique, written out here).
  var HeatLayer = L.Layer.extend({
    options: { pane: "ck-heat", radius: 9, blur: 11, opacity: 0.95, threshold: 90 },
    initialize: function (options) {
      L.setOptions(this, options);
      this._points = [];
    },
    setPoints: function (points) {
      this._points = points;
      if (this._map) { this._redraw(); }
      return this;
    },
    onAdd: function (m) {
      this._canvas = L.DomUtil.create("canvas", "ck-heat-canvas leaflet-zoom-hide");
      this.getPane().appendChild(this._canvas);
      m.on("moveend zoomend resize viewreset", this._reset, this);
      this._reset();
    },
    onRemove: function (m) {
      L.DomUtil.remove(this._canvas);
      m.off("moveend zoomend resize viewreset", this._reset, this);
    },
    _reset: function () {
      var size = this._map.getSize();
      L.DomUtil.setPosition(this._canvas, this._map.containerPointToLayerPoint([0, 0]));
      this._canvas.width = size.x;
      this._canvas.height = size.y;
      this._redraw();
    },
    _stamp: function (r, blur) {
      var c = document.createElement("canvas");
      var full = r + blur;
      c.width = c.height = full * 2;
      var ctx = c.getContext("2d");
      var g = ctx.createRadialGradient(full, full, 0, full, full, full);
      g.addColorStop(0, "rgba(0,0,0,1)");
      g.addColorStop(r / full, "rgba(0,0,0,0.45)");
      g.addColorStop(1, "rgba(0,0,0,0)");
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, full * 2, full * 2);
      return c;
    },
    _ramp: function () {
      if (!this._palette) {
        var c = document.createElement("canvas");
        c.width = 256; c.height = 1;
        var ctx = c.getContext("2d");
        var g = ctx.createLinearGradient(0, 0, 256, 0);
        g.addColorStop(0.0, "#ffb300");
        g.addColorStop(0.4, "#ff6a00");
        g.addColorStop(0.75, "#ff2040");
        g.addColorStop(1.0, "#ffe9e9");
        ctx.fillStyle = g;
        ctx.fillRect(0, 0, 256, 1);
        this._palette = ctx.getImageData(0, 0, 256, 1).data;
      }
      return this._palette;
    },
    _redraw: function () {
      var m = this._map, canvas = this._canvas;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (!this._points.length || !canvas.width || !canvas.height) { return; }
      // Discs grow with the zoom level so that a street keeps its glow when zoomed in.
      var scale = Math.pow(1.35, m.getZoom() - 14);
      var r = Math.max(5, Math.round(this.options.radius * scale));
      var blur = Math.max(4, Math.round(this.options.blur * scale));
      var stamp = this._stamp(r, blur);
      var full = r + blur;
      // Each point adds a little: many points in one place saturate to white.
      ctx.globalAlpha = Math.min(0.3, Math.max(0.04, 2.5 / Math.sqrt(this._points.length)));
      var bounds = m.getBounds().pad(0.1);
      this._points.forEach(function (p) {
        if (!bounds.contains([p[1], p[0]])) { return; }
        var xy = m.latLngToContainerPoint([p[1], p[0]]);
        ctx.drawImage(stamp, xy.x - full, xy.y - full);
      });
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var px = image.data, palette = this._ramp(), opacity = this.options.opacity;
      // Below the threshold (a few scattered reports) nothing is drawn: the grid colours say
      // enough there, and the heat marks only where reports crowd together.
      var threshold = this.options.threshold;
      for (var i = 3; i < px.length; i += 4) {
        var a = px[i];
        if (a < threshold) { px[i] = 0; continue; }
        var k = Math.round(255 * (a - threshold) / (255 - threshold));
        var j = k * 4;
        px[i - 3] = palette[j];
        px[i - 2] = palette[j + 1];
        px[i - 1] = palette[j + 2];
        // Opaque enough to keep its colour over the grids, faded in at the edge of a spot.
        px[i] = Math.min(k / 48, 1) * Math.min(235, 120 + k * 0.45) * opacity;
      }
      ctx.putImageData(image, 0, 0);
    }
  });

  var gridLayer = null;
  var heat = new HeatLayer();
  var breaks = [];
  var legendControl = L.control({ position: "bottomright" });
  legendControl.onAdd = function () {
    var div = L.DomUtil.create("div", "ck-legend");
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legendControl.addTo(map);

  function classBreaks(values) {
    // Five classes at the quintiles of the grids that had reports: readable whatever the volume.
    var nonzero = values.filter(function (v) { return v > 0; }).sort(function (a, b) { return a - b; });
    if (!nonzero.length) { return []; }
    var out = [];
    [0.2, 0.4, 0.6, 0.8].forEach(function (q) {
      var v = nonzero[Math.min(nonzero.length - 1, Math.floor(q * nonzero.length))];
      if (!out.length || v > out[out.length - 1]) { out.push(v); }
    });
    return out;  // upper bounds (inclusive) of all classes but the last
  }
  function classOf(count) {
    for (var i = 0; i < breaks.length; i++) {
      if (count <= breaks[i]) { return i; }
    }
    return breaks.length;
  }
  function colourOf(count) {
    if (!count) { return null; }
    var k = classOf(count), n = breaks.length;
    return DENSITY[Math.round(k * (DENSITY.length - 1) / Math.max(1, n))];
  }
  function gridStyle(feature) {
    var count = (state.data && state.data.map.grids[feature.properties.code]) || 0;
    var fill = colourOf(count);
    return {
      color: fill ? "rgba(143, 216, 255, 0.55)" : "rgba(64, 130, 220, 0.35)",
      weight: 0.6,
      fillColor: fill || "#0a1c3d",
      fillOpacity: fill ? 0.78 : 0.5
    };
  }
  function renderLegend() {
    var div = legendControl.getContainer();
    var cells = ['<span><i class="swatch" style="background:#0a1c3d"></i>0</span>'];
    var lower = 1;
    breaks.concat([null]).forEach(function (upper) {
      var label = upper === null ? "≥" + lower : (upper === lower ? String(lower) : lower + "–" + upper);
      cells.push('<span><i class="swatch" style="background:' + colourOf(upper === null ? Infinity : upper) + '"></i>' + label + "</span>");
      if (upper !== null) { lower = upper + 1; }
    });
    div.innerHTML = "<h4>" + T.densityLegend + "</h4>" +
      '<div class="scale">' + cells.join("") + "</div>" +
      "<h4 style=\"margin-top:6px\">" + T.heat + "</h4>" +
      '<div class="heat-bar"></div><div class="heat-ends"><span>' + T.sparse + "</span><span>" + T.dense + "</span></div>";
  }

  // Per street: this month's reports, open and overdue cases now; a row opens its cases.
  var streetControl = L.control({ position: "topleft" });
  streetControl.onAdd = function () {
    var div = L.DomUtil.create("div", "ck-legend ck-streets");
    L.DomEvent.disableClickPropagation(div);
    div.addEventListener("click", function (event) {
      var row = event.target.closest("[data-street]");
      if (row) { openCases(thisMonth({ street: row.dataset.street })); }
    });
    return div;
  };
  streetControl.addTo(map);

  function renderStreets(streets) {
    var div = streetControl.getContainer();
    var head = "<tr><th>" + T.street + "</th><th>" + T.reportsThisMonth + "</th><th>" + T.open + "</th><th>" + T.overdue + "</th></tr>";
    var rows = streets.map(function (st) {
      var name = document.createElement("span");
      name.textContent = st.name;  // names come from the database: never as HTML
      return '<tr data-street="' + st.code + '" title="' + T.clickToList + '"><td>' + name.innerHTML + "</td><td>" +
        number(st.reported) + "</td><td>" + number(st.open) + '</td><td class="' + (st.overdue ? "late" : "") + '">' +
        number(st.overdue) + "</td></tr>";
    });
    div.innerHTML = "<table>" + head + rows.join("") + "</table>";
    div.hidden = !streets.length;
  }

  function renderMap(data) {
    var counts = data.map.grids;
    breaks = classBreaks(Object.keys(counts).map(function (k) { return counts[k]; }));
    if (gridLayer) {
      gridLayer.setStyle(gridStyle);
    }
    heat.setPoints(data.map.points);
    renderLegend();
    renderStreets(data.streets);
  }

  function loadLayers() {
    return fetch(config.layersUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (layers) {
        gridLayer = L.geoJSON(layers.grids, {
          style: gridStyle,
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(function () {
              var p = feature.properties;
              var count = (state.data && state.data.map.grids[p.code]) || 0;
              return p.street_name + " · " + p.community_name + "<br>" + p.code + "<br>" + format(T.gridReports, { n: number(count) }) +
                (count ? "<br><small>" + T.clickToList + "</small>" : "");
            }, { sticky: true, className: "ck-tooltip" });
            layer.on("click", function () {
              if (state.data && state.data.map.grids[feature.properties.code]) {
                openCases(thisMonth({ grid: feature.properties.code }));
              }
            });
          }
        }).addTo(map);
        var glow = L.geoJSON(layers.streets, {
          pane: "ck-outline", interactive: false,
          style: { color: "#35d0ff", weight: 6, opacity: 0.18, fill: false }
        });
        var line = L.geoJSON(layers.streets, {
          pane: "ck-outline", interactive: false,
          style: { color: "#8fe3ff", weight: 1.8, opacity: 0.95, fill: false }
        });
        var labels = L.layerGroup(layers.streets.features.map(function (f) {
          return L.tooltip({ permanent: true, direction: "center", className: "ck-street-label", pane: "ck-outline" })
            .setLatLng([f.properties.label_lat, f.properties.label_lon])
            .setContent(f.properties.name);
        }));
        L.layerGroup([glow, line, labels]).addTo(map);
        heat.addTo(map);
        var overlays = {};
        overlays[T.densityLayer] = gridLayer;
        overlays[T.heat] = heat;
        L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map)
          .getContainer().classList.add("ck-layers");
        if (layers.grids.features.length) {
          map.fitBounds(gridLayer.getBounds(), { padding: [16, 16] });
        }
      });
  }

  //
  // Data and refresh
  //

  function render(data) {
    state.data = data;
    document.querySelectorAll("[data-month]").forEach(function (el) { el.textContent = data.month; });
    document.querySelectorAll("[data-year]").forEach(function (el) { el.textContent = format(T.yearClosed, { year: data.year }); });
    document.querySelectorAll("[data-month-reports]").forEach(function (el) {
      el.textContent = format(T.mapSubtitle, { month: data.month, n: number(data.counts.reported_month) });
    });
    renderKpis(data.counts);
    renderKpiLinks(data);
    renderCharts(data);
    renderMap(data);
  }

  function refresh() {
    return fetch(config.dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { throw new Error(T.loggedOut); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        showUpdated(data);
        showWarning(state.mapError ? T.mapFailed : "", state.mapError);  // the map's failure stays said
        state.fetchedAt = data.now;
        document.body.dataset.cockpitReady = "1";
      })
      .catch(function (error) {
        // Keep what is on screen; say that it is not fresh.
        var message = state.fetchedAt ? format(T.refreshFailed, { time: state.fetchedAt.slice(11, 19) }) : T.loadFailed;
        showWarning(message, error.message);
      });
  }

  loadLayers()
    .catch(function (error) { state.mapError = error.message; showWarning(T.mapFailed, error.message); })
    .then(refresh)
    .then(function () { document.body.dataset.cockpitDrawn = "1"; });
  setInterval(refresh, config.refreshSeconds * 1000);
  // For the browser tests (and a console): refresh now, without waiting for the minute.
  window.CivicGridCockpit = { refresh: refresh };

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(state.charts).forEach(function (key) { state.charts[key].resize(); });
      if (state.data) { renderCharts(state.data); }
      map.invalidateSize();
    }, 150);
  });
})();
