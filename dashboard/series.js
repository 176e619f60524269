/*
 * Snapshot list → chart data, for the dashboard (index.html) and its tests (Node): pure functions,
 * no DOM. Snapshots are the snapshots service's answers (DESIGN.md §4): money and rates are decimal
 * strings, turned into numbers here only to be drawn.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.DashboardSeries = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /** The delinquency buckets in order (DESIGN.md §3), oldest debt last. */
  var BUCKETS = ["current", "1_29", "30_59", "60_89", "90_119", "120_plus"];
  var BUCKET_COLOURS = ["#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935", "#6d1b1b"];

  function num(v) {
    if (v === null || v === undefined || v === "") return null;
    var n = Number(v);
    return Number.isFinite(n) ? n : null;
  }

  function dateOf(s) {
    return s.business_date || s.as_of || s.date || s.snapshot_date;
  }

  /** Oldest first, one per date (the last one of a date wins). */
  function ordered(snapshots) {
    var byDate = {};
    (snapshots || []).forEach(function (s) {
      if (dateOf(s)) byDate[dateOf(s)] = s;
    });
    return Object.keys(byDate).sort().map(function (d) { return byDate[d]; });
  }

  function bucketBalance(s, bucket) {
    var b = s.bucket_breakdown && s.bucket_breakdown[bucket];
    if (b === undefined || b === null) return 0;
    return num(typeof b === "object" ? b.balance : b) || 0;
  }

  function balanceChart(snapshots) {
    var list = ordered(snapshots);
    return {
      labels: list.map(dateOf),
      datasets: [
        { label: "Total balance", data: list.map(function (s) { return num(s.total_balance); }), borderColor: "#1d6fd8", backgroundColor: "#1d6fd8" },
        { label: "Delinquent amount", data: list.map(function (s) { return num(s.delinquent_amount); }), borderColor: "#e53935", backgroundColor: "#e53935" },
      ],
    };
  }

  function bucketChart(snapshots) {
    var list = ordered(snapshots);
    return {
      labels: list.map(dateOf),
      datasets: BUCKETS.map(function (bucket, i) {
        return { label: bucket, data: list.map(function (s) { return bucketBalance(s, bucket); }), backgroundColor: BUCKET_COLOURS[i], stack: "buckets" };
      }),
    };
  }

  /** IRR as a percentage (null where no root exists: a gap in the line), MOIC as a multiple. */
  function returnsChart(snapshots) {
    var list = ordered(snapshots);
    return {
      labels: list.map(dateOf),
      datasets: [
        { label: "IRR %", data: list.map(function (s) { var v = num(s.irr); return v === null ? null : Math.round(v * 10000) / 100; }), borderColor: "#6a1b9a", backgroundColor: "#6a1b9a", yAxisID: "irr" },
        { label: "MOIC", data: list.map(function (s) { return num(s.moic); }), borderColor: "#00897b", backgroundColor: "#00897b", yAxisID: "moic" },
      ],
    };
  }

  /** The items of a list answer (`{ items, total }`) or a bare array. */
  function itemsOf(answer) {
    if (Array.isArray(answer)) return answer;
    return (answer && (answer.items || answer.snapshots || answer.data)) || [];
  }

  return { BUCKETS: BUCKETS, balanceChart: balanceChart, bucketChart: bucketChart, returnsChart: returnsChart, itemsOf: itemsOf, ordered: ordered };
});
