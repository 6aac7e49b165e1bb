/* The scoring screen of a round of review: the rows are built on the row template from the
   page's JSON (#review-data: the names of the columns, then one array a review); every change
   is saved as it is made (JSON to the row's review URL; comments after a pause in typing), the
   row says saving / saved / the server's refusal, and the progress and the yes votes follow the
   answers. The keyboard moves between rows and scores them; the filters show a part of the
   rows. Every text shown comes from the server (the page's data attributes, the row template,
   the JSON), in the reader's language. Without JavaScript the server renders the rows page by
   page, each a form with its own save button; this script then works on those rows as they are. */
(function () {
  "use strict";
  var root = document.getElementById("panel-scoring");
  if (!root) { return; }
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var stage = root.getAttribute("data-stage");
  var isOpen = root.getAttribute("data-open") === "1";
  var COMMENT_PAUSE_MS = 600; // a comment is saved this long after the last key typed in it
  var RUBRIC = ["originality", "frontier", "significance", "influence"];
  var FIELDS = ["score", "originality", "frontier", "significance", "influence", "recommendation", "vote", "comment"];
  var ROW_SELECTOR = 'tr[data-testid="review-row"]';

  // --- the rows, from the JSON -------------------------------------------------------------

  function fillRow(row, item, groups, reviewUrl, untitled, checked) {
    var url = reviewUrl + item.id;
    var formId = "review-form-" + item.id;
    var done = (stage === "final" ? item.vote : item.score) !== null;
    row.id = "review-" + item.id;
    row.setAttribute("data-done", done ? "1" : "0");
    row.setAttribute("data-group", item.group);
    row.setAttribute("data-save-url", url);
    row.cells[0].textContent = String(item.position);
    var link = row.querySelector("[data-review-link]");
    link.setAttribute("href", url);
    link.textContent = item.title || untitled;
    row.querySelector("[data-year]").textContent = item.year ? String(item.year) : "—";
    row.querySelector("[data-group-title]").textContent = groups[item.group] || "";
    row.querySelectorAll("[data-part]").forEach(function (part) {
      var key = part.getAttribute("data-part");
      var value = item[key];
      if (!value) { part.remove(); return; }
      var target = part.lastElementChild;
      target.textContent = value;
      if (key === "doi") { target.setAttribute("href", "https://doi.org/" + value); }
    });
    var mean = row.querySelector("[data-mean]");
    if (mean) { mean.textContent = typeof item.score === "number" ? item.score.toFixed(2) : "—"; }
    var form = row.querySelector("form");
    form.id = formId;
    form.setAttribute("action", url);
    row.querySelectorAll("input, select, textarea").forEach(function (field) {
      field.setAttribute("form", formId);
      if (field.type === "radio") {
        field.id = "vote-" + field.value + "-" + item.id;
        field.nextElementSibling.setAttribute("for", field.id);
        if (item.vote !== null && item.vote === (field.value === "yes")) { checked.push(field); }
      } else if (field.name === "comment") {
        field.defaultValue = item.comment || "";
      } else {
        var value = item[field.name];
        field.value = value === null || value === undefined ? "" : String(value);
      }
    });
  }

  function buildRows() {
    var source = document.getElementById("review-data");
    var template = document.getElementById("review-row-template");
    if (!source || !template) { return; }
    var data = JSON.parse(source.textContent);
    var model = template.content.firstElementChild;
    var reviewUrl = root.getAttribute("data-review-url");
    var untitled = root.getAttribute("data-label-untitled");
    var fragment = document.createDocumentFragment();
    var checked = [];
    data.rows.forEach(function (values) { // one array a review, in the order of data.columns
      var item = {};
      data.columns.forEach(function (name, index) { item[name] = values[index]; });
      var row = model.cloneNode(true);
      fillRow(row, item, data.groups, reviewUrl, untitled, checked);
      fragment.appendChild(row);
    });
    root.querySelector("tbody[data-rows]").appendChild(fragment);
    // A vote is checked once its row is in the page: each row's radios are then their own group.
    checked.forEach(function (radio) { radio.checked = true; });
  }

  buildRows();
  var rows = Array.prototype.slice.call(root.querySelectorAll(ROW_SELECTOR));
  var active = null;
  var rubricIndex = 0; // the shortlist's criterion the digit keys score
  var pendingSaves = 0;

  root.classList.add("js-scoring"); // hides the rows' save buttons: changes save themselves
  root.querySelectorAll("[data-filters], [data-key-help], [data-built-table]").forEach(function (element) {
    element.hidden = false;
  });

  // --- saving ------------------------------------------------------------------------------

  function rowOf(element) { return element && element.closest ? element.closest(ROW_SELECTOR) : null; }

  function fieldOf(row, name) { return row.querySelector('[name="' + name + '"]'); }

  function setStatus(row, kind, text) {
    var status = row.querySelector("[data-status]");
    status.className = "small " + {saving: "text-muted", saved: "text-success", error: "text-danger fw-semibold"}[kind];
    status.setAttribute("data-state", kind);
    status.textContent = text;
  }

  function markInvalid(row, values, invalid) {
    Object.keys(values).forEach(function (name) {
      row.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        input.classList.toggle("is-invalid", invalid);
      });
    });
  }

  function showNumber(selector, value) {
    root.querySelectorAll(selector).forEach(function (element) { element.textContent = String(value); });
  }

  function showProgress(progress) {
    if (!progress) { return; }
    showNumber("[data-progress-done]", progress.done);
    showNumber("[data-progress-total]", progress.total);
    var bar = root.querySelector("[data-progress]");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(progress.done));
      bar.setAttribute("aria-valuemax", String(progress.total));
      var share = progress.total ? 100 * progress.done / progress.total : 0;
      bar.querySelector("[data-progress-bar]").style.width = share + "%";
    }
  }

  // The row's status: saving while a save runs, then the first refusal not yet made good by a
  // later save of the same field, or saved with the server's time.
  function showRowState(row, savedAt) {
    if (row.pending > 0) { return; }
    var refused = Object.keys(row.errors);
    if (refused.length) {
      setStatus(row, "error", row.errors[refused[0]]);
    } else {
      setStatus(row, "saved", root.getAttribute("data-label-saved") + (savedAt ? " " + savedAt : ""));
    }
  }

  function showAnswer(row, data, values) {
    var saved = data.review;
    row.setAttribute("data-done", saved.done ? "1" : "0");
    var mean = row.querySelector("[data-mean]");
    if (mean) { mean.textContent = typeof saved.score === "number" ? saved.score.toFixed(2) : "—"; }
    // The counts of the last answer awaited: while other saves run, an answer may arrive after a
    // later one (each counts what was saved when it ran), so the counts wait for the last.
    if (pendingSaves === 0) {
      showProgress(data.progress);
      if (typeof data.yes_votes === "number") {
        showNumber("[data-yes-votes]", data.yes_votes);
      }
    }
    markInvalid(row, values, false);
    Object.keys(values).forEach(function (name) { delete row.errors[name]; });
    showRowState(row, data.saved_at);
  }

  function showRefusal(row, values, message) {
    markInvalid(row, values, true);
    Object.keys(values).forEach(function (name) { row.errors[name] = message; });
    showRowState(row, null);
  }

  function save(row, values) {
    if (!isOpen) { return Promise.resolve(); }
    row.pending = (row.pending || 0) + 1;
    row.errors = row.errors || {};
    pendingSaves += 1;
    setStatus(row, "saving", root.getAttribute("data-label-saving"));
    var previous = (row.queue || Promise.resolve()).catch(function () { /* each save shows its own failure */ });
    row.queue = previous.then(function () {
      return fetch(row.getAttribute("data-save-url"), {
        method: "POST",
        credentials: "same-origin",
        keepalive: true, // a save started just before leaving the page still arrives
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken, "Accept": "application/json"},
        body: JSON.stringify(values)
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; }, function () {
          // Not JSON: the login page or the expired-form page (a session or page grown too old).
          return {ok: false, data: {error: root.getAttribute("data-message-expired")}};
        });
      }).then(function (answer) {
        row.pending -= 1;
        pendingSaves -= 1;
        if (answer.ok && answer.data.ok) {
          showAnswer(row, answer.data, values);
        } else {
          showRefusal(row, values, answer.data.error || root.getAttribute("data-message-failed"));
        }
      }, function () {
        row.pending -= 1;
        pendingSaves -= 1;
        showRefusal(row, values, root.getAttribute("data-message-failed"));
      });
    });
    return row.queue;
  }

  function valueOf(input) {
    if (input.type === "number") { return input.value === "" ? "" : Number(input.value); }
    return input.value;
  }

  function saveComment(row) {
    window.clearTimeout(row.commentTimer);
    row.commentTimer = null;
    var comment = fieldOf(row, "comment");
    var last = row.savedComment === undefined ? (comment && comment.defaultValue) : row.savedComment;
    if (!comment || comment.value === last) { return; }
    row.savedComment = comment.value;
    save(row, {comment: comment.value});
  }

  root.addEventListener("change", function (event) {
    var input = event.target;
    var row = rowOf(input);
    if (!row || FIELDS.indexOf(input.name) < 0) { return; }
    if (input.name === "comment") { saveComment(row); return; }
    var values = {};
    values[input.name] = valueOf(input);
    save(row, values);
  });

  root.addEventListener("input", function (event) {
    var input = event.target;
    var row = rowOf(input);
    if (!row || input.name !== "comment") { return; }
    window.clearTimeout(row.commentTimer);
    row.commentTimer = window.setTimeout(function () { saveComment(row); }, COMMENT_PAUSE_MS);
  });

  // A row's form (Enter in one of its fields): save all its fields, stay on the page.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    var row = rowOf(form);
    if (!row) { return; }
    event.preventDefault();
    var values = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (FIELDS.indexOf(input.name) < 0 || (input.type === "radio" && !input.checked)) { return; }
      values[input.name] = valueOf(input);
    });
    window.clearTimeout(row.commentTimer);
    if ("comment" in values) { row.savedComment = values.comment; }
    save(row, values);
  });

  // Leaving the page: a comment still waiting for its pause is sent at once (keepalive); the
  // browser asks first only when earlier saves have not been answered yet.
  window.addEventListener("beforeunload", function (event) {
    var unanswered = pendingSaves;
    rows.forEach(function (row) { if (row.commentTimer) { saveComment(row); } });
    if (unanswered > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  if (!rows.length) { return; }

  // --- the active row and the keyboard ------------------------------------------------------

  function visibleRows() { return rows.filter(function (row) { return !row.hidden; }); }

  function markRubric() {
    root.querySelectorAll(".is-key-target").forEach(function (input) { input.classList.remove("is-key-target"); });
    if (stage === "shortlist" && active) {
      var input = fieldOf(active, RUBRIC[rubricIndex]);
      if (input) { input.classList.add("is-key-target"); }
    }
  }

  function setActive(row, focus) {
    if (active && active !== row) { active.classList.remove("is-active"); }
    active = row;
    if (!row) { markRubric(); return; }
    row.classList.add("is-active");
    markRubric();
    if (focus) {
      row.focus({preventScroll: true});
      row.scrollIntoView({block: "nearest"});
    }
  }

  function move(step) {
    var visible = visibleRows();
    if (!visible.length) { return; }
    var index = visible.indexOf(active);
    if (index < 0) {
      index = step > 0 ? 0 : visible.length - 1;
    } else {
      index = Math.max(0, Math.min(visible.length - 1, index + step));
    }
    setActive(visible[index], true);
  }

  function nextUnscored() {
    var visible = visibleRows();
    var start = visible.indexOf(active);
    for (var offset = 1; offset <= visible.length; offset += 1) {
      var row = visible[(start + offset + visible.length) % visible.length];
      if (row.getAttribute("data-done") !== "1") { setActive(row, true); return; }
    }
  }

  function setScore(row, name, value) {
    var input = fieldOf(row, name);
    if (!input || input.disabled) { return; }
    input.value = String(value);
    var values = {};
    values[name] = value;
    save(row, values);
  }

  function setVote(row, vote) {
    var radio = row.querySelector('[name="vote"][value="' + vote + '"]');
    if (!radio || radio.disabled) { return; }
    radio.checked = true;
    save(row, {vote: vote});
  }

  // The row's review page, once its saves are answered (a refusal keeps the expert here).
  function openReview(row) {
    saveComment(row);
    (row.queue || Promise.resolve()).then(function () {
      if (!row.errors || !Object.keys(row.errors).length) {
        window.location.href = row.querySelector("[data-review-link]").href;
      }
    });
  }

  function isTyping(element) {
    if (!element || !element.tagName) { return false; }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable) { return true; }
    return tag === "INPUT" && ["checkbox", "radio", "button", "submit", "reset"].indexOf(element.type) < 0;
  }

  function onRowOrPage(element) {
    return element === document.body || element === document.documentElement || element === active ||
      (element && element.matches && element.matches(ROW_SELECTOR));
  }

  root.addEventListener("focusin", function (event) {
    var row = rowOf(event.target);
    if (row && row !== active) { setActive(row, false); }
  });

  root.addEventListener("click", function (event) {
    var row = rowOf(event.target);
    if (!row) { return; }
    var interactive = event.target.closest("a, button, input, select, textarea, label");
    setActive(row, !interactive);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (isTyping(target)) {
      if (event.key === "Escape") {
        var row = rowOf(target) || active;
        target.blur();
        if (row) { setActive(row, true); }
      }
      return;
    }
    var key = event.key;
    var handled = true;
    if (key === "j" || key === "ArrowDown") {
      move(1);
    } else if (key === "k" || key === "ArrowUp") {
      move(-1);
    } else if (key === "u") {
      nextUnscored();
    } else if (key === "/") {
      var search = document.getElementById("filter-text");
      if (search) { search.focus(); search.select(); }
    } else if (/^[0-9]$/.test(key) && active && stage !== "final") {
      var value = key === "0" ? 10 : Number(key);
      setScore(active, stage === "shortlist" ? RUBRIC[rubricIndex] : "score", value);
    } else if ((key === "y" || key === "n") && active && stage === "final") {
      setVote(active, key === "y" ? "yes" : "no");
    } else if (stage === "shortlist" && active && (key === "ArrowRight" || key === "ArrowLeft")) {
      rubricIndex = (rubricIndex + (key === "ArrowRight" ? 1 : RUBRIC.length - 1)) % RUBRIC.length;
      markRubric();
    } else if (stage === "shortlist" && active && key === "Tab" && onRowOrPage(target) &&
               (event.shiftKey ? rubricIndex > 0 : rubricIndex < RUBRIC.length - 1)) {
      rubricIndex += event.shiftKey ? -1 : 1; // past the last criterion Tab leaves the row as usual
      markRubric();
    } else if (key === "Enter" && active && onRowOrPage(target)) {
      openReview(active);
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  // --- filters -----------------------------------------------------------------------------

  var searchInput = document.getElementById("filter-text");
  var groupSelect = document.getElementById("filter-group");
  var unscoredBox = document.getElementById("filter-unscored");
  var shownCount = root.querySelector("[data-shown-count]");
  var texts = rows.map(function (row) {
    var parts = row.querySelectorAll("[data-title], [data-terms]");
    return Array.prototype.map.call(parts, function (part) { return part.textContent; }).join(" ").toLowerCase();
  });

  function applyFilters() {
    var words = searchInput ? searchInput.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var group = groupSelect ? groupSelect.value : "";
    var unscoredOnly = unscoredBox ? unscoredBox.checked : false;
    var shown = 0;
    rows.forEach(function (row, index) {
      var visible = words.every(function (word) { return texts[index].indexOf(word) >= 0; }) &&
        (!group || row.getAttribute("data-group") === group) &&
        (!unscoredOnly || row.getAttribute("data-done") !== "1");
      row.hidden = !visible;
      shown += visible ? 1 : 0;
    });
    if (shownCount) { shownCount.textContent = String(shown); }
    if (active && active.hidden) { setActive(null, false); }
  }

  if (searchInput) { searchInput.addEventListener("input", applyFilters); }
  if (groupSelect) { groupSelect.addEventListener("change", applyFilters); }
  if (unscoredBox) { unscoredBox.addEventListener("change", applyFilters); }

  // Back from a review (or a save without JavaScript): that row is the active one.
  var fromHash = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (fromHash && rows.indexOf(fromHash) >= 0) { setActive(fromHash, true); }
}());
