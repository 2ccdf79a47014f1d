// Report forms: the searchable category picker, the phone's GPS fix and the task list by distance.
(function () {
  "use strict";
  // Category picker: results come from the server as an HTMX partial of buttons.
  document.querySelectorAll(".category-picker").forEach(function (picker) {
    var hidden = picker.querySelector("input[type=hidden]");
    var picked = picker.querySelector(".picked");
    var results = picker.querySelector(".category-results");
    results.addEventListener("click", function (e) {
      var option = e.target.closest(".category-option");
      if (!option) { return; }
      hidden.value = option.dataset.id;
      picked.innerHTML = "";
      picked.append("已选：");
      var strong = document.createElement("strong");
      strong.textContent = option.dataset.name;
      picked.append(strong);
      results.innerHTML = "";
      picker.classList.remove("has-error");
    });
  });

  // Photo count beside the camera and file buttons (the native input is hidden under them).
  document.querySelectorAll(".photo-button input[type=file], .file-button input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      var count = input.closest(".field, .photo-button").querySelector(".photo-count, .file-count");
      if (count) { count.textContent = input.files.length ? "已选 " + input.files.length + " 张" : "未选择照片"; }
    });
  });

  // GPS: browsers give WGS84, which is what the server expects (crs=wgs84).
  var button = document.getElementById("gps-button");
  var status = document.querySelector(".gps-status");
  var tasks = document.getElementById("task-list");
  function locate() {
    if (!navigator.geolocation) { status.textContent = "此设备不支持定位，请在地图上点选。"; return; }
    status.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lon = pos.coords.longitude, lat = pos.coords.latitude;
      document.getElementById("id_lon").value = lon.toFixed(6);
      document.getElementById("id_lat").value = lat.toFixed(6);
      status.textContent = "已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）";
      document.dispatchEvent(new CustomEvent("case-map:place", { detail: { lon: lon, lat: lat } }));
      if (tasks && window.htmx) {
        htmx.ajax("GET", tasks.dataset.url + "?lon=" + lon + "&lat=" + lat, { target: "#task-list" });
      }
    }, function (err) {
      var why = { 1: "未获得定位权限", 2: "暂时无法获取位置", 3: "定位超时" }[err.code] || "定位失败";
      status.textContent = why + "，请在地图上点选。";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  if (button) {
    button.addEventListener("click", locate);
    locate();
  }
})();
