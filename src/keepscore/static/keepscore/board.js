// keepscore's board: drag a card to another column (SortableJS, served by the app), or focus
// a card and press the right or left arrow to move it a stage. The server answers with the
// board again; a move that needs more (revenue, a lost reason, the checklist) comes back with
// the lead's move form in a dialog.
//
// Moves are shown at once and sent one at a time, in order: a second press of → before the
// first is answered moves the card on from where it is shown, and each board the server
// sends back is shown with the moves still on their way applied to it. (Sent side by side,
// an answer arriving late put a card back where it was, and a move queued behind another was
// dropped when the first answer replaced its card.)
(function () {
  "use strict";
  var pending = []; // moves not answered yet, oldest first: {lead, stage}
  var sending = false;
  var refocus = null; // the card that had the focus when the board was replaced

  function show(move) {
    var card = document.querySelector('#board .tile[data-lead="' + move.lead + '"]');
    var list = document.querySelector('#board .cards[data-stage="' + move.stage + '"]');
    if (!card || !list || card.parentNode === list) return;
    var focused = document.activeElement === card;
    list.appendChild(card);
    if (focused) card.focus();
  }

  function send() {
    if (sending || !pending.length) return;
    sending = true;
    var move = pending[0];
    var values = { to_stage: move.stage };
    var channel = document.getElementById("board-channel");
    if (channel) values.channel = channel.value;
    var url = document.getElementById("board").dataset.moveBase + move.lead + "/move/";
    function answered() {
      pending.shift();
      sending = false;
      // a move that asks for more opens its dialog; what was queued after it is not sent
      if (document.getElementById("move-dialog")) pending = [];
      send();
    }
    htmx.ajax("POST", url, {
      source: document.body, target: "#board", swap: "outerHTML", values: values,
    }).then(answered, answered);
  }

  function queue(card, stage) {
    var move = { lead: card.dataset.lead, stage: stage };
    pending.push(move);
    show(move);
    send();
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
        onAdd: function (evt) { queue(evt.item, evt.to.dataset.stage); },
      });
    });
    var dialog = document.getElementById("move-dialog");
    if (dialog && !dialog.open) {
      dialog.showModal();
      return;
    }
    reapply();
  }

  // the moves still on their way, and the focus, put back on a board just swapped in: at once,
  // before the browser paints it (htmx settles it 20 ms later)
  function reapply() {
    pending.forEach(show);
    if (refocus) {
      var card = document.querySelector('#board .tile[data-lead="' + refocus + '"]');
      refocus = null;
      if (card) card.focus();
    }
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target.id !== "board") return;
    var focused = document.activeElement;
    refocus = focused && focused.classList.contains("tile") ? focused.dataset.lead : null;
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    var card = e.target;
    if (!(card instanceof HTMLElement) || !card.classList.contains("tile")) return;
    var columns = Array.prototype.slice.call(document.querySelectorAll("#board .column"));
    var next = columns[columns.indexOf(card.closest(".column")) + (e.key === "ArrowRight" ? 1 : -1)];
    if (!next) return;
    e.preventDefault();
    queue(card, next.dataset.stage);
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.id === "board") reapply();
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
