// keepscore's few behaviours, no dependencies: the header's menus, the "/" shortcut to search
// leads, a keyboard stop on every box that scrolls sideways (a wide table on a phone), forms
// sent as soon as a choice marked data-submit-on-change changes, and a report's filters marked
// invalid as its answer says. Here, not in inline handlers (onchange=...), which the
// Content-Security-Policy refuses.
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
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t instanceof HTMLSelectElement && t.hasAttribute("data-submit-on-change") && t.form) {
      t.form.requestSubmit();
    }
  });
  function scrollersFocusable() {
    document.querySelectorAll(".card, .table-scroll, .board").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) {
        if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
      } else if (el.getAttribute("tabindex") === "0") {
        el.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", scrollersFocusable);
  window.addEventListener("resize", scrollersFocusable);
  document.addEventListener("htmx:afterSettle", scrollersFocusable);
  // a report's filters stay in the page while the report is swapped (report_filters.html):
  // which of them are invalid is the report's to say, in its errors card's data-invalid
  function filtersMarked() {
    document.querySelectorAll("form.filters[id$='-filters']").forEach(function (form) {
      var report = document.getElementById(form.id.slice(0, -"-filters".length));
      if (!report) return;
      var card = report.querySelector("[data-invalid]");
      var invalid = card ? card.getAttribute("data-invalid").split(" ") : [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name) return;
        if (invalid.indexOf(el.name) >= 0) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
      });
    });
  }
  document.addEventListener("htmx:afterSettle", filtersMarked);
})();
