// The public map of recent cases: approximate points (snapped server-side) over the streets.
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  var configEl = document.getElementById("public-map-config");
  if (!el || !configEl || !window.L) { return; }
  var config = JSON.parse(configEl.textContent);
  var note = document.getElementById("map-note");
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!config.tileUrl });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 18, attribution: config.tileAttribution }).addTo(map);
  }
  map.setView([25.68, 114.31], 12);
  var colours = { closed: "#1a7f37", review: "#b86e00" };
  fetch(config.dataUrl, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var streets = L.geoJSON(data.streets, {
        style: { color: "#1d2433", weight: 1.5, fillColor: "#1f5fbf", fillOpacity: 0.05 },
        interactive: false
      }).addTo(map);
      var points = L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          var closed = f.properties.closed;
          return L.circleMarker(latlng, {
            radius: 7, color: "#fff", weight: 2, fillOpacity: 0.9,
            fillColor: closed ? colours.closed : (f.properties.review ? colours.review : "#1f5fbf")
          });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var link = document.createElement("a");
          link.href = config.caseUrl + encodeURIComponent(p.number) + "/";
          link.textContent = p.number;
          var box = document.createElement("div");
          box.appendChild(link);
          box.appendChild(document.createElement("br"));
          box.appendChild(document.createTextNode(p.category + " · " + p.status));
          layer.bindPopup(box);
        }
      }).addTo(map);
      var bounds = points.getLayers().length ? points.getBounds() : streets.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 }); }
      if (note) {
        note.textContent = (data.truncated ? config.labels.truncated : config.labels.points).replace("%(n)s", data.features.length);
      }
    })
    .catch(function () { if (note) { note.textContent = config.labels.failed; } });
})();
