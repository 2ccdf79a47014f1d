// The report page without reloads: position (GPS or a map tap), place and category searches,
// nearby open cases, photo previews and the SMS code. Without this script every step is a
// plain form round trip (civicgrid/portal/report.py). ES5 only: older in-app browsers.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var S = JSON.parse(document.getElementById("report-strings").textContent);
  var cfg = JSON.parse(document.getElementById("report-map-config").textContent);
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var status = document.getElementById("locate-status");
  var nearbyBox = document.getElementById("nearby");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }
  function each(selector, fn) { Array.prototype.forEach.call(form.querySelectorAll(selector), fn); }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".p-js-only"), function (el) { el.hidden = false; });

  // The map: the county's streets outlined, a tap puts the point.
  var map = null, marker = null;
  var mapEl = document.getElementById("report-map");
  var pointStyle = { radius: 9, color: "#fff", weight: 3, fillColor: "#d92d20", fillOpacity: 1 };
  if (window.L && mapEl) {
    map = L.map(mapEl, { zoomSnap: 0.25, attributionControl: !!cfg.tileUrl });
    if (cfg.tileUrl) { L.tileLayer(cfg.tileUrl, { maxZoom: 19, attribution: cfg.tileAttribution }).addTo(map); }
    if (cfg.streets && cfg.streets.features.length) {
      L.geoJSON(cfg.streets, {
        style: { color: "#1f5fbf", weight: 2, fillColor: "#1f5fbf", fillOpacity: 0.06 }, interactive: false
      }).addTo(map);
    }
    if (cfg.bounds) { map.fitBounds(cfg.bounds, { padding: [8, 8] }); } else { map.setView([25.68, 114.31], 13); }
    map.on("click", function (e) { setPoint(e.latlng.lat, e.latlng.lng, "map"); });
  }
  function showMarker(y, x, pan) {
    if (!map) { return; }
    if (marker) { marker.setLatLng([y, x]); } else { marker = L.circleMarker([y, x], pointStyle).addTo(map); }
    if (pan) { map.setView([y, x], Math.max(map.getZoom(), 16)); }
  }
  // A point from the map or the GPS replaces a chosen place, and the other way round.
  function setPoint(y, x, source) {
    lon.value = x.toFixed(6);
    lat.value = y.toFixed(6);
    each("input[name=place]", function (r) { r.checked = false; });
    showMarker(y, x, source === "gps");
    if (source === "map") { status.textContent = S.mapPicked; }
    refreshNearby();
  }
  if (lon.value && lat.value) { showMarker(parseFloat(lat.value), parseFloat(lon.value), true); }

  var locateButton = document.getElementById("locate-me");
  if (locateButton) {
    locateButton.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = S.noGeo; return; }
      status.textContent = S.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        setPoint(pos.coords.latitude, pos.coords.longitude, "gps");
        status.textContent = fmt(S.located, { m: Math.round(pos.coords.accuracy) });
      }, function (err) {
        status.textContent = ({ 1: S.denied, 2: S.unavailable, 3: S.timeout })[err.code] || S.unavailable;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Searches: the same fragments the server puts into the page on a round trip.
  var searches = {
    place: { input: document.getElementById("id_place_q"), box: document.getElementById("place-results"), url: form.dataset.placesUrl },
    category: { input: document.getElementById("id_category_q"), box: document.getElementById("category-results"), url: form.dataset.categoriesUrl }
  };
  function search(kind) {
    var s = searches[kind];
    s.box.textContent = S.searching;
    get(s.url + "?q=" + encodeURIComponent(s.input.value)).then(function (html) {
      s.box.innerHTML = html;
    }, function () { s.box.textContent = S.failed; });
  }
  form.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-find]");
    if (button) { e.preventDefault(); search(button.dataset.find); }
  });
  Object.keys(searches).forEach(function (kind) {
    searches[kind].input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); search(kind); }
    });
  });

  form.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "place" && t.checked) {
      // A chosen place is sent as itself (the server looks its point up), not as a point.
      lon.value = "";
      lat.value = "";
      showMarker(parseFloat(t.dataset.lat), parseFloat(t.dataset.lon), true);
      status.textContent = fmt(S.placePicked, { name: t.parentNode.querySelector("strong").textContent });
      refreshNearby();
    } else if (t.name === "category") {
      refreshNearby();
    } else if (t.id === "id_photos") {
      previews(t);
    }
  });

  // Open cases of the same kind close by: shown before the citizen submits.
  function refreshNearby() {
    var category = form.querySelector("input[name=category]:checked");
    var place = form.querySelector("input[name=place]:checked");
    // A point alone is still sent: the answer warns at once when it is outside the county.
    if (!lon.value && !(category && place)) { nearbyBox.innerHTML = ""; return; }
    var query = "?category=" + encodeURIComponent(category ? category.value : "") +
      (lon.value ? "&lon=" + lon.value + "&lat=" + lat.value : "&place=" + encodeURIComponent(place.value));
    get(form.dataset.nearbyUrl + query).then(function (html) { nearbyBox.innerHTML = html; }, function () {});
  }

  // Photo previews (nothing is uploaded before the form is sent).
  var count = document.getElementById("photo-count");
  var previewBox = document.getElementById("photo-previews");
  function previews(input) {
    var max = parseInt(input.dataset.max, 10);
    previewBox.innerHTML = "";
    var files = Array.prototype.slice.call(input.files || []);
    count.className = files.length > max ? "p-error" : "p-muted";
    count.textContent = files.length > max ? fmt(S.tooMany, { n: max }) : (files.length ? fmt(S.photoCount, { n: files.length }) : "");
    files.slice(0, max).forEach(function (file) {
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      previewBox.appendChild(img);
    });
  }

  // The SMS code, without leaving the page; the button waits a minute before sending again.
  var sendButton = document.getElementById("send-code");
  var otpStatus = document.getElementById("otp-status");
  if (sendButton) {
    sendButton.addEventListener("click", function (e) {
      e.preventDefault();
      var body = new FormData();
      body.append("csrfmiddlewaretoken", csrf);
      body.append("phone", document.getElementById("id_phone").value);
      sendButton.disabled = true;
      otpStatus.textContent = S.sending;
      fetch(form.dataset.otpUrl, {
        method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
      }).then(function (r) {
        return r.text().then(function (html) {
          otpStatus.innerHTML = html;
          if (r.ok) { countdown(60); } else { sendButton.disabled = false; }
        });
      }, function () { otpStatus.textContent = S.failed; sendButton.disabled = false; });
    });
  }
  function countdown(seconds) {
    var label = S.getCode;
    var timer = setInterval(function () {
      seconds -= 1;
      sendButton.textContent = fmt(S.resend, { s: seconds });
      if (seconds <= 0) { clearInterval(timer); sendButton.textContent = label; sendButton.disabled = false; }
    }, 1000);
    sendButton.textContent = fmt(S.resend, { s: seconds });
  }
})();
