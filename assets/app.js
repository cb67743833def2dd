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

// Flash messages can be dismissed.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss]");
  if (button) {
    button.closest(".message")?.remove();
  }
});
