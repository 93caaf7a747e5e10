// Progressive enhancement: the table is complete without JavaScript; this adds a text filter
// and status/severity toggles. It reads only the DOM (no data is interpolated into the script).
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var query = document.getElementById("filter");
  var shown = document.getElementById("shown-count");
  var active = { status: {}, severity: {} };
  var buttons = controls.querySelectorAll("button[data-kind]");
  Array.prototype.forEach.call(buttons, function (b) {
    active[b.dataset.kind][b.dataset.value] = b.getAttribute("aria-pressed") === "true";
    b.addEventListener("click", function () {
      var on = b.getAttribute("aria-pressed") !== "true";
      b.setAttribute("aria-pressed", on ? "true" : "false");
      active[b.dataset.kind][b.dataset.value] = on;
      apply();
    });
  });
  function apply() {
    var terms = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (r) {
      var text = r.dataset.search;
      var ok = active.status[r.dataset.status] && active.severity[r.dataset.severity] &&
        terms.every(function (t) { return text.indexOf(t) !== -1; });
      r.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " of " + rows.length + " results shown";
  }
  query.addEventListener("input", apply);
  controls.hidden = false;
  apply();
})();
