// Grid map: draws the layers from the JSON view and shows a clicked grid's details.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("grid-map-config").textContent);
  var map = L.map("grid-map", { zoomSnap: 0.25, preferCanvas: true });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution }).addTo(map);
  }
  map.setView([25.68, 114.31], 13);

  var info = document.getElementById("grid-info");
  var selected = null;

  function showGrid(p) {
    info.querySelector("[data-empty]").hidden = true;
    info.querySelector("dl").hidden = false;
    var values = {
      code: p.code,
      name: p.name || "—",
      community: p.community_name + "（" + p.community + "）",
      street: p.street_name + "（" + p.street + "）",
      region_class: p.region_class ? p.region_class + " 类" : "未设置",
      responsibility_grid: p.responsibility_grid || "未分配",
      inspector: p.inspector || "未分配",
      area: p.area_m2.toLocaleString("zh-CN") + " 平方米"
    };
    Object.keys(values).forEach(function (key) {
      info.querySelector('[data-field="' + key + '"]').textContent = values[key];
    });
  }

  function gridStyle(feature) {
    var c = feature.properties.colour;
    return { color: c, weight: 1, opacity: 0.9, fillColor: c, fillOpacity: 0.18 };
  }

  fetch(config.dataUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var grids = L.geoJSON(data.grids, {
        style: gridStyle,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(feature.properties.code, { sticky: true });
          layer.on("click", function () {
            if (selected) { grids.resetStyle(selected); }
            selected = layer;
            layer.setStyle({ weight: 3, fillOpacity: 0.45 });
            showGrid(feature.properties);
          });
        }
      });
      var streets = L.geoJSON(data.streets, {
        style: { color: "#1d2433", weight: 2.5, fill: false, opacity: 0.85 },
        interactive: false
      });
      var streetLabels = L.layerGroup(data.streets.features.map(function (f) {
        return L.tooltip({ permanent: true, direction: "center", className: "street-label" })
          .setLatLng([f.properties.label_lat, f.properties.label_lon])
          .setContent(f.properties.name);
      }));
      var responsibility = L.geoJSON(data.responsibility_grids, {
        style: { color: "#c0392b", weight: 2, dashArray: "6 4", fill: false },
        interactive: false
      });
      var layers = {
        "layer-grids": [grids],
        "layer-streets": [streets, streetLabels],
        "layer-responsibility": [responsibility]
      };
      Object.keys(layers).forEach(function (id) {
        var box = document.getElementById(id);
        var apply = function () {
          layers[id].forEach(function (layer) {
            if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
          });
        };
        box.addEventListener("change", apply);
        apply();
      });
      if (data.grids.features.length) {
        map.fitBounds(grids.getBounds(), { padding: [20, 20] });
      }
    })
    .catch(function (error) {
      info.querySelector("[data-empty]").textContent = "网格数据加载失败：" + error.message;
    });
})();
