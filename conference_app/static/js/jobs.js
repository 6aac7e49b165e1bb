/* A job's page: while the job is queued or running, poll its status and show its progress and
   log; when its state changes, reload the page (buttons, outputs and error are drawn there). */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var ACTIVE = { queued: true, running: true };
  var POLL_MS = 2000;
  var state = box.getAttribute("data-state");
  if (!ACTIVE[state]) { return; }

  function part(name) { return box.querySelector('[data-job="' + name + '"]'); }

  function show(status) {
    var progress = status.progress;
    var bar = part("bar");
    var percent = progress.percent === null ? 0 : progress.percent;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = percent + "%";
    bar.firstElementChild.textContent = progress.percent === null ? "" : percent + "%";
    part("text").textContent = progress.text;
    part("eta").textContent = progress.eta_text;
    part("eta-box").hidden = !progress.eta_text;
    part("message").textContent = progress.message;
    var log = part("log");
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = status.log_tail.join("\n");
    if (atBottom) { log.scrollTop = log.scrollHeight; }
  }

  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status === null) { return; }
        if (status.state !== state) {
          window.location.reload();
          return;
        }
        show(status);
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 5); });
  }

  window.setTimeout(poll, POLL_MS);
}());
