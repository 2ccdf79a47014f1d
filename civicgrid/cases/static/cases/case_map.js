// Case maps without tiles: the case's grid outline and point, or a picker that fills lon/lat.
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  var configEl = document.getElementById("case-map-config");
  if (!el || !configEl || !window.L) { return; }
  var config = JSON.parse(configEl.textContent);
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!config.tileUrl });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution }).addTo(map);
  }
  var pointStyle = { radius: 8, color: "#fff", weight: 2, fillColor: "#d92d20", fillOpacity: 1 };
  map.setView([25.68, 114.31], 13);

  if (config.grid) {
    var outline = L.geoJSON(config.grid, { style: { color: "#1f5fbf", weight: 2, fillColor: "#1f5fbf", fillOpacity: 0.12 } }).addTo(map);
    map.fitBounds(outline.getBounds(), { padding: [24, 24] });
  }
  if (config.point) {
    L.circleMarker([config.point[1], config.point[0]], pointStyle).addTo(map);
  }
  if (!config.pick) { return; }

  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var marker = null;
  function place(latlng, pan) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, pointStyle).addTo(map); }
    if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
  }
  function fromInputs(pan) {
    var x = parseFloat(lon.value), y = parseFloat(lat.value);
    if (isFinite(x) && isFinite(y)) { place([y, x], pan); return true; }
    return false;
  }
  map.on("click", function (e) {
    lon.value = e.latlng.lng.toFixed(6);
    lat.value = e.latlng.lat.toFixed(6);
    place(e.latlng, false);
  });
  [lon, lat].forEach(function (input) { input.addEventListener("change", function () { fromInputs(true); }); });
  // report.js moves the point after a GPS fix.
  document.addEventListener("case-map:place", function (e) { place([e.detail.lat, e.detail.lon], true); });

  if (config.dataUrl) {
    fetch(config.dataUrl, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        var grids = L.geoJSON(data.grids, {
          style: function (f) { return { color: f.properties.colour, weight: 1, fillColor: f.properties.colour, fillOpacity: 0.15 }; },
          interactive: false
        }).addTo(map);
        L.geoJSON(data.streets, { style: { color: "#1d2433", weight: 2, fill: false }, interactive: false }).addTo(map);
        // A point already chosen (typed, or a GPS fix that came first) keeps the view on it.
        if (!fromInputs(true) && data.grids.features.length) {
          map.fitBounds(grids.getBounds(), { padding: [10, 10] });
        }
      })
      .catch(function () { fromInputs(true); });
  } else {
    fromInputs(true);
  }
})();
