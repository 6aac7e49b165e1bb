/* The lock page: keep the count of chosen candidates live. The server checks the count. */
(function () {
  "use strict";
  var form = document.getElementById("lock-form");
  if (!form) { return; }
  var counter = form.querySelector('[data-testid="chosen-count"]');
  form.addEventListener("change", function () {
    counter.textContent = String(form.querySelectorAll('input[name="candidate_id"]:checked').length);
  });
}());
