// Live progress of a bulk issue job: polls status.json every second and updates the bar and counts.
// Without JavaScript the page refreshes itself (meta refresh in <noscript>) and has a reload link.
(function () {
  "use strict";
  var root = document.querySelector("[data-bulk-status-url]");
  if (!root) { return; }
  var url = root.getAttribute("data-bulk-status-url");
  var bar = root.querySelector("progress");

  function show(status) {
    if (bar) {
      bar.max = Math.max(status.total, 1);
      bar.value = status.processed;
      bar.textContent = status.percent + "%";
    }
    ["issued", "skipped", "failed", "processed", "total", "percent"].forEach(function (key) {
      var el = root.querySelector('[data-count="' + key + '"]');
      if (el) { el.textContent = String(status[key]); }
    });
    var pill = root.querySelector("[data-status-pill]");
    if (pill) {
      pill.textContent = status.status_label;
      pill.className = "status-pill status-" + status.status;
    }
  }

  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) {
          show(status);
          if (status.finished) { window.location.reload(); return; }
        }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }

  window.setTimeout(tick, 1000);
})();
