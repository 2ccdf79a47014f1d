// Workbench tabs: switching a queue swaps only the case list (the filter form carries the queue).
(function () {
  "use strict";
  var form = document.getElementById("filter-form");
  if (!form) { return; }
  document.querySelectorAll(".tabs [data-queue]").forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      if (!window.htmx) { return; } // plain link without HTMX
      event.preventDefault();
      document.querySelectorAll(".tabs [data-queue]").forEach(function (t) {
        t.classList.toggle("active", t === tab);
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
      form.querySelector("[name=queue]").value = tab.dataset.queue;
      htmx.trigger(form, "submit");
    });
  });
  // Leave empty filters out of the request, so the pushed URL stays short and shareable.
  form.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    Array.from(params.keys()).forEach(function (key) {
      if (params.get(key) === "") { params.delete(key); }
    });
  });
})();
