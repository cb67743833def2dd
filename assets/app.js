// Gatehouse's own behaviour on top of htmx, loaded from a file so the CSP can
// forbid inline script.
"use strict";

// After a form swaps in with errors, move focus to its first invalid field,
// as a full page load with autofocus would.
document.addEventListener("htmx:afterSettle", () => {
  const invalid = document.querySelector('form [aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
  }
});

// A swapped-in part that replaced the button the user pressed (a list after
// an entry was removed) marks where the focus goes, so it is not lost.
document.addEventListener("htmx:afterSettle", () => {
  const target = document.querySelector("[data-focus-after-swap]");
  if (target) {
    target.removeAttribute("data-focus-after-swap");
    target.focus();
  }
});

// Messages never pile up: of those shown since the page loaded, the latest
// few stay (a user deleting entry after entry sees the last deletions).
const maxMessages = 3;
const shownMessages = [...document.querySelectorAll(".message")];
document.addEventListener("htmx:load", (event) => {
  const root = event.detail.elt;
  for (const message of root.matches(".message") ? [root] : root.querySelectorAll(".message")) {
    if (!shownMessages.includes(message)) {
      shownMessages.push(message);
    }
  }
  const live = shownMessages.filter((message) => message.isConnected);
  for (const old of live.slice(0, -maxMessages)) {
    old.remove();
  }
  shownMessages.splice(0, shownMessages.length, ...live.slice(-maxMessages));
});

// Times come in UTC; shown in the viewer's own time zone, with UTC kept in
// the title.
const localTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});
const showLocalTimes = (root) => {
  for (const time of root.matches("time[datetime]") ? [root] : root.querySelectorAll("time[datetime]")) {
    const at = new Date(time.dateTime);
    if (!time.dataset.local && !Number.isNaN(at.getTime())) {
      time.dataset.local = "";
      time.title = time.textContent;
      time.textContent = localTime.format(at);
    }
  }
};
showLocalTimes(document.documentElement);
document.addEventListener("htmx:load", (event) => showLocalTimes(event.detail.elt));

// Flash messages can be dismissed.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss]");
  if (button) {
    button.closest(".message")?.remove();
  }
});

// A link of the error summary moves the focus into its field, with the
// field's label in view above it, as GOV.UK's summary does.
document.addEventListener("click", (event) => {
  const link = event.target.closest('.error-summary a[href^="#"]');
  const field = link && document.getElementById(link.hash.slice(1));
  if (field) {
    event.preventDefault();
    (field.closest(".field") || field).scrollIntoView();
    field.focus({ preventScroll: true });
  }
});

// A list's "select all" box, which needs this script and so shows only
// with it, ticks or clears every box of its form.
for (const all of document.querySelectorAll("[data-select-all]")) {
  all.hidden = false;
  all.addEventListener("change", () => {
    for (const box of all.form.querySelectorAll('input[type="checkbox"][name="ids"]')) {
      box.checked = all.checked;
    }
  });
}
