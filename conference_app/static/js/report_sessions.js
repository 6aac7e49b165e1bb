/* The timetable builder of a report session: drag the slots into their order; the new order is
   posted as JSON ({"slot_ids": [...]}) and the times the server recomputes are shown in place.
   A refused or failed save puts the slots back in the order the server has. Without
   JavaScript (or on a touch screen) the move up / move down buttons do the same by forms.
   Texts shown come from the server (the list's data attributes or the JSON answers). */
(function () {
  "use strict";
  var list = document.getElementById("timetable-list");
  if (!list) { return; }
  var status = document.getElementById("timetable-status");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var dragged = null;
  var orderBefore = null;

  function slots() {
    return Array.prototype.slice.call(list.querySelectorAll("li[data-slot-id]"));
  }

  function order() {
    return slots().map(function (item) { return Number(item.getAttribute("data-slot-id")); });
  }

  function say(kind, text) {
    status.className = "small alert py-1 px-2 alert-" + kind;
    status.textContent = text;
  }

  // The first slot cannot move up, the last not down.
  function refreshButtons() {
    var items = slots();
    items.forEach(function (item, index) {
      var up = item.querySelector('[data-move="up"]');
      var down = item.querySelector('[data-move="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === items.length - 1; }
    });
  }

  function putInOrder(ids) {
    var byId = {};
    slots().forEach(function (item) { byId[item.getAttribute("data-slot-id")] = item; });
    ids.forEach(function (id) { if (byId[id]) { list.appendChild(byId[id]); } });
    refreshButtons();
  }

  function showTimes(times) {
    times.forEach(function (time) {
      var item = document.getElementById("slot-" + time.id);
      if (!item) { return; }
      item.querySelector("[data-start]").textContent = time.start;
      item.querySelector("[data-end]").textContent = time.end;
    });
  }

  function save(before) {
    return fetch(list.getAttribute("data-order-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken, "Accept": "application/json"},
      body: JSON.stringify({slot_ids: order()})
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (answer) {
      if (!answer.ok) { throw new Error(answer.data.error || ""); }
      showTimes(answer.data.slots);
      say("success", answer.data.message);
    }).catch(function (error) {
      putInOrder(before);
      say("danger", (error && error.message) || list.getAttribute("data-message-failed"));
    });
  }

  list.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest("li[data-slot-id]") : null;
    if (!item) { return; }
    dragged = item;
    orderBefore = order();
    item.classList.add("opacity-50");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-slot-id"));
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var target = event.target.closest ? event.target.closest("li[data-slot-id]") : null;
    if (!target || target === dragged) { return; }
    var box = target.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? target.nextSibling : target);
  });

  list.addEventListener("drop", function (event) {
    if (dragged) { event.preventDefault(); }
  });

  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("opacity-50");
    dragged = null;
    refreshButtons();
    var before = orderBefore;
    if (before && before.join(",") !== order().join(",")) { save(before); }
  });

  // After a move button, the page comes back at the moved slot: the keyboard stays on the
  // button pressed (or on the other one, when the slot cannot move further that way).
  var moved = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (moved && moved.hasAttribute("data-slot-id")) {
    var direction = new URLSearchParams(window.location.search).get("moved") === "down" ? "down" : "up";
    var button = moved.querySelector('[data-move="' + direction + '"]:not([disabled])') ||
      moved.querySelector("[data-move]:not([disabled])");
    // After the load: scrolling to the fragment would take the focus away again.
    if (button) { window.addEventListener("load", function () { window.setTimeout(function () { button.focus(); }, 0); }); }
  }
}());
