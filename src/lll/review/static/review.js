// The review page's behaviour. Served from this server only (the CSP forbids any other
// script); it never turns text into markup: cards are cloned from the sanitized page.
(function () {
  "use strict";

  // -- source cards: hover or focus shows, click pins, Escape or a click elsewhere closes --
  var pop = document.createElement("div");
  pop.id = "popover";
  pop.className = "popover";
  pop.setAttribute("role", "dialog");
  pop.hidden = true;
  document.body.appendChild(pop);
  var shown = null, pinned = false, hideTimer = null;

  function cardFor(sentence) {
    return document.getElementById("card-" + sentence.id);
  }

  function place(sentence) {
    var rects = sentence.getClientRects();
    var first = rects[0], last = rects[rects.length - 1];
    var width = pop.offsetWidth, height = pop.offsetHeight;
    var top = last.bottom + 8;
    if (top + height > window.innerHeight - 8 && first.top - height - 8 > 8) {
      top = first.top - height - 8;
    }
    // Inside the article's column, so the Verification and Publish boxes stay in sight.
    var column = sentence.closest("article");
    var right = Math.min(column ? column.getBoundingClientRect().right - 12 : Infinity, window.innerWidth - 16);
    var left = Math.max(8, Math.min(first.left, right - width));
    pop.style.top = (top + window.scrollY) + "px";
    pop.style.left = (left + window.scrollX) + "px";
  }

  function show(sentence) {
    var card = cardFor(sentence);
    if (!card) return;
    clearTimeout(hideTimer);
    if (shown && shown !== sentence) shown.classList.remove("active");
    var copy = card.cloneNode(true);
    copy.removeAttribute("id");
    pop.replaceChildren(copy);
    pop.hidden = false;
    shown = sentence;
    sentence.classList.add("active");
    place(sentence);
  }

  function hide() {
    pop.hidden = true;
    pinned = false;
    if (shown) shown.classList.remove("active");
    shown = null;
  }

  function sentenceOf(node) {
    return node && node.closest ? node.closest("article .sentence") : null;
  }

  document.addEventListener("mouseover", function (event) {
    var sentence = sentenceOf(event.target);
    if (sentence && !pinned) show(sentence);
    if (event.target.closest && event.target.closest("#popover")) clearTimeout(hideTimer);
  });
  document.addEventListener("mouseout", function (event) {
    var from = sentenceOf(event.target) || (event.target.closest && event.target.closest("#popover"));
    if (from && !pinned) hideTimer = setTimeout(hide, 250);
  });
  document.addEventListener("click", function (event) {
    var sentence = sentenceOf(event.target);
    if (sentence) {
      if (event.target.closest("a")) return;  // a link inside a sentence still works
      if (pinned && shown === sentence) { hide(); return; }
      show(sentence);
      pinned = true;
    } else if (!(event.target.closest && event.target.closest("#popover"))) {
      hide();
    }
  });
  document.addEventListener("focusin", function (event) {
    var sentence = sentenceOf(event.target);
    if (sentence && !pinned) show(sentence);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hide();
    var sentence = sentenceOf(event.target);
    if (sentence && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      show(sentence);
      pinned = true;
    }
  });
  window.addEventListener("resize", function () { if (shown) place(shown); });

  // -- the editor: Approve stays off while the text has edits that were not re-verified --
  var editor = document.getElementById("editor");
  var text = document.getElementById("markdown");
  var approve = document.getElementById("approve");
  var dirty = document.getElementById("dirty");
  if (editor && text) {
    var checked = text.value;
    text.addEventListener("input", function () {
      var changed = text.value !== checked;
      if (approve && approve.dataset.ready === "yes") approve.disabled = changed;
      if (dirty) dirty.hidden = !changed;
    });
    editor.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (by) by.classList.add("busy");
      // After the browser has taken the form's data: no second submission from a double click.
      setTimeout(function () {
        document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  }
})();
