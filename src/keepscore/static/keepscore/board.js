// keepscore's board: drag a card to another column (SortableJS, served by the app), or focus
// a card and press the right or left arrow to move it a stage. The server answers with the
// board again; a move that needs more (revenue, a lost reason, the checklist) comes back with
// the lead's move form in a dialog.
(function () {
  "use strict";
  var refocus = null;

  function move(card, stage) {
    var values = { to_stage: stage };
    var channel = document.getElementById("board-channel");
    if (channel) values.channel = channel.value;
    refocus = card.dataset.lead;
    var url = document.getElementById("board").dataset.moveBase + card.dataset.lead + "/move/";
    htmx.ajax("POST", url, {
      source: card, target: "#board", swap: "outerHTML", values: values,
    });
  }

  function init() {
    var board = document.getElementById("board");
    if (!board || typeof Sortable === "undefined") return;
    board.querySelectorAll(".cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "board",
        animation: 120,
        draggable: ".tile",
        filter: "a, button, select, input",
        preventOnFilter: false,
        onAdd: function (evt) { move(evt.item, evt.to.dataset.stage); },
      });
    });
    var dialog = document.getElementById("move-dialog");
    if (dialog && !dialog.open) {
      dialog.showModal();
      return;
    }
    if (refocus) {
      var card = board.querySelector('.tile[data-lead="' + refocus + '"]');
      refocus = null;
      if (card) card.focus();
    }
  }

  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    var card = e.target;
    if (!(card instanceof HTMLElement) || !card.classList.contains("tile")) return;
    var columns = Array.prototype.slice.call(document.querySelectorAll("#board .column"));
    var next = columns[columns.indexOf(card.closest(".column")) + (e.key === "ArrowRight" ? 1 : -1)];
    if (!next) return;
    e.preventDefault();
    move(card, next.dataset.stage);
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
