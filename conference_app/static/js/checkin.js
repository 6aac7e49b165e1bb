/* The check-in page: scan QR codes with the phone's camera (jsQR, vendored), check people in
   from the search results without reloading, and keep the counter live. Every text shown
   comes from the server (the page's data attributes or the JSON answers), in the reader's
   language. Without JavaScript the page's forms work on their own. */
(function () {
  "use strict";
  var root = document.getElementById("checkin");
  if (!root) { return; }
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var result = document.getElementById("checkin-result");
  var SAME_CODE_PAUSE_MS = 4000; // a code held in front of the camera is sent again only after this
  var POLL_MS = 5000;

  function showCounts(data) {
    root.querySelectorAll("[data-count]").forEach(function (element) {
      var value = data[element.getAttribute("data-count")];
      if (typeof value === "number") { element.textContent = String(value); }
    });
  }

  function showResult(kind, text) {
    result.className = "alert mb-3 alert-" + kind;
    result.textContent = text;
  }

  function checkIn(code, method) {
    return fetch(root.getAttribute("data-checkin-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken, "Accept": "application/json"},
      body: JSON.stringify({code: code, method: method})
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (answer) {
      showCounts(answer.data);
      if (!answer.ok) {
        showResult("danger", answer.data.error);
      } else {
        showResult(answer.data.status === "checked_in" ? "success" : "warning", answer.data.message);
      }
      return answer;
    }).catch(function () {
      showResult("danger", root.getAttribute("data-message-failed"));
      return {ok: false, data: {}};
    });
  }

  // The search results' buttons: check in without leaving the page.
  root.querySelectorAll("form[data-checkin-form]").forEach(function (form) {
    form.addEventListener("submit", function (submitEvent) {
      submitEvent.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      checkIn(form.elements.code.value, "search").then(function (answer) {
        if (answer.ok) {
          var badge = document.createElement("span");
          badge.className = "badge text-bg-success";
          badge.textContent = root.getAttribute("data-label-checked-in");
          form.replaceWith(badge);
        } else {
          button.disabled = false;
        }
      });
    });
  });

  // The live counter: other organisers check people in at other doors.
  window.setInterval(function () {
    if (document.hidden) { return; }
    fetch(root.getAttribute("data-counts-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { showCounts(data); } })
      .catch(function () { /* the next poll tries again */ });
  }, POLL_MS);

  // The camera scanner.
  var scanner = root.querySelector("[data-scanner]");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
    return; // the search form still works
  }
  scanner.classList.remove("d-none");
  var video = scanner.querySelector("[data-video]");
  var canvas = scanner.querySelector("[data-canvas]");
  var context = canvas.getContext("2d", {willReadFrequently: true});
  var startButton = scanner.querySelector("[data-start-scanner]");
  var stopButton = scanner.querySelector("[data-stop-scanner]");
  var stream = null;
  var lastCode = null;
  var lastCodeAt = 0;
  var sending = false;

  function scanFrame() {
    if (!stream) { return; }
    if (video.readyState >= video.HAVE_ENOUGH_DATA && !sending) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      var now = Date.now();
      if (found && found.data && (found.data !== lastCode || now - lastCodeAt > SAME_CODE_PAUSE_MS)) {
        lastCode = found.data;
        sending = true;
        checkIn(found.data, "scan").then(function () {
          lastCodeAt = Date.now();
          sending = false;
        });
      }
    }
    window.requestAnimationFrame(scanFrame);
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.classList.add("d-none");
    stopButton.classList.add("d-none");
    startButton.classList.remove("d-none");
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (mediaStream) {
        stream = mediaStream;
        video.srcObject = mediaStream;
        video.classList.remove("d-none");
        startButton.classList.add("d-none");
        stopButton.classList.remove("d-none");
        showResult("info", root.getAttribute("data-message-scanning"));
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(scanFrame); })
      .catch(function () {
        stop();
        showResult("danger", root.getAttribute("data-message-no-camera"));
      });
  });
  stopButton.addEventListener("click", stop);
})();
