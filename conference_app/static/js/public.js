// Public event pages: a button with data-confirm asks before it submits (cancelling a
// registration gives the place away to the waiting list, so it should not happen by a slip).
document.querySelectorAll("[data-confirm]").forEach((button) => {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
});

// The calendar's organisation filter: the names are fetched once the field is first used,
// so the page itself does not carry hundreds of them.
document.querySelectorAll("datalist[data-source]").forEach((list) => {
  const input = document.querySelector(`input[list="${list.id}"]`);
  if (!input) return;
  input.addEventListener("focus", () => {
    if (list.dataset.loaded) return;
    list.dataset.loaded = "1";
    fetch(list.dataset.source, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { names: [] }))
      .then((data) => {
        for (const name of data.names) {
          const option = document.createElement("option");
          option.value = name;
          list.appendChild(option);
        }
      })
      .catch(() => { list.dataset.loaded = ""; });
  }, { once: false });
});
