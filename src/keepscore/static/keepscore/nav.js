// keepscore: the header's menus and the "/" shortcut to search leads. No dependencies.
(function () {
  "use strict";
  function groups() { return document.querySelectorAll(".topbar details.nav-group"); }
  document.addEventListener("toggle", function (e) {
    var opened = e.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.open) return;
    if (!opened.matches(".nav-group")) return;
    groups().forEach(function (d) { if (d !== opened) d.open = false; });
  }, true);
  document.addEventListener("click", function (e) {
    groups().forEach(function (d) { if (d.open && !d.contains(e.target)) d.open = false; });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      groups().forEach(function (d) { d.open = false; });
      return;
    }
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var search = document.getElementById("header-search");
    if (!search) return;
    e.preventDefault();
    search.focus();
    search.select();
  });
})();
