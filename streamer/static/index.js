// Sorts alilink's index by a column header; the page reads fine without it.
"use strict";
(function () {
  var table = document.getElementById("list");
  if (!table) return;
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function value(row, key) {
    var v = row.dataset[key];
    return key === "name" ? v : Number(v);
  }
  function sortBy(th, dir) {
    var key = th.dataset.key;
    var rows = Array.prototype.filter.call(body.rows, function (r) { return r.dataset.name !== undefined; });
    var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
    rows.sort(function (a, b) {
      var fa = a.classList.contains("folder"), fb = b.classList.contains("folder");
      if (fa !== fb) return fa ? -1 : 1; // folders first, whatever the order
      var x = value(a, key), y = value(b, key), c;
      c = key === "name" ? collator.compare(x, y) : x - y;
      if (c === 0) c = collator.compare(a.dataset.name, b.dataset.name);
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", dir);
    try { history.replaceState(null, "", "#sort=" + key + "-" + (dir === "ascending" ? "asc" : "desc")); } catch (e) {}
  }
  Array.prototype.forEach.call(heads, function (th) {
    var b = th.querySelector("button");
    if (!b) return;
    b.addEventListener("click", function () {
      var cur = th.getAttribute("aria-sort");
      sortBy(th, cur === "ascending" ? "descending" : "ascending");
    });
  });
  var m = /^#sort=(name|date|size)-(asc|desc)$/.exec(location.hash);
  if (m) {
    var th = table.tHead.querySelector('th[data-key="' + m[1] + '"]');
    if (th) sortBy(th, m[2] === "asc" ? "ascending" : "descending");
  }
})();
