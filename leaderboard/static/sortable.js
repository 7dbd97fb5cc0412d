/* Sortable tables for the cyclebench leaderboard: click a column header to sort the rows by it,
   click again to reverse. Cells sort by their data-value attribute (numbers for data-type="number"
   columns), blanks last in both directions; equal keys keep their order. The column picker (.views,
   hidden until this script runs) shows the figure columns of one view: a header cell with data-key is
   shown when the pressed button's data-keys names it, its column hidden (class "off") otherwise; the
   first button is the default. No dependencies. */
(function () {
  "use strict";

  function key(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return null; }
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (raw === "") { return null; }
    if (numeric) {
      var x = parseFloat(raw);
      return isNaN(x) ? null : x;
    }
    return raw.toLowerCase();
  }

  function sortBy(table, index, header) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, position) {
      return { row: row, key: key(row, index, numeric), position: position };
    });
    keyed.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return (a.key === null) - (b.key === null) || a.position - b.position;
      }
      var order = a.key < b.key ? -1 : (a.key > b.key ? 1 : 0);
      return (ascending ? order : -order) || a.position - b.position;
    });
    keyed.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function showView(table, button) {
    var keys = button.getAttribute("data-keys").split(" ");
    var heads = table.tHead.rows[0].cells;
    var hidden = [];
    Array.prototype.forEach.call(heads, function (header, index) {
      var key = header.getAttribute("data-key");
      var off = key !== null && keys.indexOf(key) < 0;
      header.classList.toggle("off", off);
      if (off) { hidden.push(index); }
    });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        cell.classList.toggle("off", hidden.indexOf(index) >= 0);
      });
    });
    Array.prototype.forEach.call(button.parentNode.querySelectorAll("button"), function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
  }

  function initViews() {
    Array.prototype.forEach.call(document.querySelectorAll(".views[data-table]"), function (views) {
      var table = document.getElementById(views.getAttribute("data-table"));
      var buttons = views.querySelectorAll("button[data-keys]");
      if (!table || !table.tHead || !table.tBodies.length || !buttons.length) { return; }
      Array.prototype.forEach.call(buttons, function (button) {
        button.addEventListener("click", function () { showView(table, button); });
      });
      showView(table, buttons[0]);
      views.hidden = false;
    });
  }

  function init() {
    initViews();
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      if (!table.tHead || !table.tBodies.length) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
        var button = header.querySelector("button");
        if (button) {
          button.addEventListener("click", function () { sortBy(table, index, header); });
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
