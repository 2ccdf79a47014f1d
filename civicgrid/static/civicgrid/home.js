// The deadline calculator on the home page: asks /api/v1/calendar/deadline and shows the answer.
(function () {
  const form = document.getElementById("deadline-form");
  if (!form) return;
  const out = document.getElementById("deadline-result");
  const start = form.elements.start;
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  start.value = now.toISOString().slice(0, 16);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams({
      start: start.value + ":00+08:00",
      amount: form.elements.amount.value,
      unit: form.elements.unit.value,
    });
    const response = await fetch(form.dataset.url + "?" + params);
    const body = await response.json();
    if (!response.ok) {
      out.textContent = body.error.reason;
      out.className = "result error";
      return;
    }
    const when = new Date(body.deadline);
    const text = when.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false,
      year: "numeric", month: "long", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit" });
    out.textContent = "期限：" + text + (body.calendar_complete ? "" : "（该年节假日安排未录入，按周末计算）");
    out.className = body.calendar_complete ? "result" : "result warn";
  });
})();
