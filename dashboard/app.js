/*
 * The dashboard page: sign in with a bearer token (kept for this browser tab only), list the
 * portfolios the token may see (GET /api/v1/portfolios), and chart the chosen portfolio's
 * snapshots (GET /api/v1/portfolios/:id/snapshots?from=&to=) with Chart.js: balance, delinquency
 * buckets stacked, IRR and MOIC. The charts are exposed on window.dashboardCharts for tests.
 */
(function () {
  "use strict";
  var S = window.DashboardSeries;
  var $ = function (id) { return document.getElementById(id); };
  var TOKEN_KEY = "loan-platform-token";
  var charts = (window.dashboardCharts = {});
  var current = null;

  function status(text, isError) {
    $("status").textContent = text || "";
    $("status").className = isError ? "error" : "";
  }

  async function api(path) {
    var token = sessionStorage.getItem(TOKEN_KEY);
    var res = await fetch(path, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } });
    var body = await res.json().catch(function () { return {}; });
    if (!res.ok) {
      var err = new Error((body.error && body.error.message) || res.status + " " + res.statusText);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    status("Loading portfolios…");
    try {
      var list = S.itemsOf(await api("/api/v1/portfolios?limit=500"));
      renderPortfolios(list);
      $("main").hidden = false;
      $("signout").hidden = false;
      status(list.length ? "" : "No portfolios visible to this token.");
      if (list.length) select(list[0]);
    } catch (err) {
      if (err.status === 401 || err.status === 403) sessionStorage.removeItem(TOKEN_KEY);
      $("main").hidden = true;
      status("Cannot list portfolios: " + err.message, true);
    }
  }

  function renderPortfolios(list) {
    var ul = $("portfolios");
    ul.textContent = "";
    list.forEach(function (p) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.dataset.id = p.id;
      b.textContent = p.name || p.public_name || p.id;
      var small = document.createElement("small");
      small.textContent = [p.status, p.user_code].filter(Boolean).join(" · ");
      b.appendChild(small);
      b.addEventListener("click", function () { select(p); });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  async function select(p) {
    current = p;
    document.querySelectorAll("#portfolios button").forEach(function (b) { b.setAttribute("aria-current", String(b.dataset.id === p.id)); });
    $("detail").hidden = false;
    $("portfolio-name").textContent = p.name || p.public_name || p.id;
    await loadSnapshots();
  }

  async function loadSnapshots() {
    if (!current) return;
    var q = [];
    if ($("from").value) q.push("from=" + $("from").value);
    if ($("to").value) q.push("to=" + $("to").value);
    q.push("limit=500");
    status("Loading snapshots…");
    try {
      var snapshots = S.itemsOf(await api("/api/v1/portfolios/" + encodeURIComponent(current.id) + "/snapshots?" + q.join("&")));
      $("snapshot-count").textContent = snapshots.length + " snapshot(s)";
      draw(snapshots);
      status("");
      document.body.dataset.chartsReady = "true";
    } catch (err) {
      status("Cannot load snapshots: " + err.message, true);
    }
  }

  function draw(snapshots) {
    replace("balance", "chart-balance", { type: "line", data: S.balanceChart(snapshots), options: { animation: false, scales: { y: { beginAtZero: true } } } });
    replace("buckets", "chart-buckets", { type: "bar", data: S.bucketChart(snapshots), options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } });
    replace("returns", "chart-returns", {
      type: "line",
      data: S.returnsChart(snapshots),
      options: { animation: false, spanGaps: false, scales: { irr: { type: "linear", position: "left", title: { display: true, text: "IRR %" } }, moic: { type: "linear", position: "right", title: { display: true, text: "MOIC" }, grid: { drawOnChartArea: false } } } },
    });
  }

  function replace(key, canvasId, config) {
    if (charts[key]) charts[key].destroy();
    charts[key] = new window.Chart($(canvasId), config);
  }

  $("signin").addEventListener("submit", function (e) {
    e.preventDefault();
    var token = $("token").value.trim();
    $("token").value = "";
    if (token) signIn(token);
  });
  $("signout").addEventListener("click", function () {
    sessionStorage.removeItem(TOKEN_KEY);
    $("main").hidden = true;
    $("signout").hidden = true;
    status("Signed out.");
  });
  $("window").addEventListener("submit", function (e) {
    e.preventDefault();
    loadSnapshots();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) signIn(sessionStorage.getItem(TOKEN_KEY));
})();
