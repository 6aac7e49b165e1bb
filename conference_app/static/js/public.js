// Public event pages: a button with data-confirm asks before it submits (cancelling a
// registration gives the place away to the waiting list, so it should not happen by a slip).
document.querySelectorAll("[data-confirm]").forEach((button) => {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
});
