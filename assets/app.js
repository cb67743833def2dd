// Gatehouse's own behaviour on top of htmx, loaded from a file so the CSP can
// forbid inline script.
"use strict";

// On a phone the settings' and the admin's tabs are one row that scrolls
// sideways: the page's own tab is brought into it, not left past the edge.
for (const current of document.querySelectorAll('.settings-nav [aria-current="page"], .admin-nav [aria-current="page"]')) {
  const row = current.closest("ul");
  if (row && row.scrollWidth > row.clientWidth) {
    const tab = current.getBoundingClientRect(), box = row.getBoundingClientRect();
    row.scrollLeft += tab.left - box.left - (box.width - tab.width) / 2;
  }
}

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

// A part swapped in for the one the user acted in (a form after a save, a
// table row after its button) keeps the focus where it was: on the control
// at the same place among the new part's controls, found by the part's id or
// data-testid. Registered after the handlers above, it gives way to them.
const controls = "a[href], button, input:not([type=hidden]), select, textarea";
let actedIn = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const part = event.detail.target, active = document.activeElement;
  actedIn = null;
  if (part && active && active !== document.body && part.contains(active)) {
    actedIn = { id: part.id, testid: part.dataset.testid, index: [...part.querySelectorAll(controls)].indexOf(active) };
  }
});
document.addEventListener("htmx:afterSettle", () => {
  const was = actedIn;
  if (!was || (document.activeElement && document.activeElement !== document.body)) {
    return;
  }
  actedIn = null;
  const part = (was.id && document.getElementById(was.id)) ||
    (was.testid && document.querySelector(`[data-testid="${CSS.escape(was.testid)}"]`));
  const control = part && part.querySelectorAll(controls)[was.index];
  if (control) {
    control.focus();
  }
});

// onEach runs attach once on each element the selector finds, on the page
// and in every part htmx swaps in later.
const onEach = (selector, attach) => {
  const attachAll = (root) => {
    for (const element of root.querySelectorAll(selector)) {
      if (!("bound" in element.dataset)) {
        element.dataset.bound = "";
        attach(element);
      }
    }
  };
  attachAll(document);
  document.addEventListener("htmx:load", (event) => attachAll(event.detail.elt));
};

// A field needed only when another changes (the current password, to change
// the address) shows only then; without this script it always shows.
onEach("[data-needed-when-changed]", (part) => {
  const source = document.getElementById(part.dataset.neededWhenChanged);
  const update = () => {
    part.hidden = source.value.trim().toLowerCase() === part.dataset.original.toLowerCase();
  };
  source.addEventListener("input", update);
  update();
});

// Copy buttons, shown only with this script and a clipboard: each copies
// the data-value (or the text) of the element it names, and says so.
for (const button of document.querySelectorAll("[data-copy]")) {
  if (!navigator.clipboard) {
    continue;
  }
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    await navigator.clipboard.writeText(source.dataset.value || source.innerText);
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 3000);
  });
}

// Print buttons, shown only with this script.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// A counter of the characters typed into a field with a maximum, so the
// limit is seen before the field stops taking more.
onEach("[data-count-of]", (counter) => {
  const field = document.getElementById(counter.dataset.countOf);
  const update = () => {
    const length = [...field.value].length;
    counter.textContent = `${length}/${field.maxLength}`;
    counter.classList.toggle("counter-full", length >= field.maxLength);
  };
  field.addEventListener("input", update);
  update();
});

// Show-password toggles, shown only with this script: pressed, the field
// shows what was typed; a form sent or swapped hides it again.
onEach("[data-show-password]", (toggle) => {
  toggle.hidden = false;
});
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-show-password]");
  const field = toggle && document.getElementById(toggle.dataset.showPassword);
  if (field) {
    const shown = field.type === "password";
    field.type = shown ? "text" : "password";
    toggle.setAttribute("aria-pressed", String(shown));
  }
});
document.addEventListener("submit", (event) => {
  for (const toggle of event.target.querySelectorAll('[data-show-password][aria-pressed="true"]')) {
    toggle.click();
  }
});

// An hx-confirm question is asked in the page's own dialog, not with the
// browser's confirm(); Cancel (the default, and Escape) sends nothing. The
// answer is read as it is given (the form's submit, Escape's cancel), not
// from the dialog's close event, which comes later: asked again at once,
// the close of the first answer would be taken for the second.
const confirmDialog = document.getElementById("confirm-dialog");
let confirmed = null; // issues the request of the question now asked
if (confirmDialog) {
  confirmDialog.querySelector("form").addEventListener("submit", (event) => {
    const issue = confirmed;
    confirmed = null;
    if (issue && event.submitter && event.submitter.value === "yes") {
      issue(true);
    }
  });
  confirmDialog.addEventListener("cancel", () => { confirmed = null; });
}
document.addEventListener("htmx:confirm", (event) => {
  if (!event.detail.question || !confirmDialog) {
    return;
  }
  event.preventDefault();
  confirmDialog.querySelector("#confirm-question").textContent = event.detail.question;
  confirmed = event.detail.issueRequest;
  confirmDialog.showModal();
  confirmDialog.querySelector('[value="no"]').focus();
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

// Times come in UTC. A time says how long ago it was ("5 minutes ago") in
// the page's language, the full time in the viewer's own time zone in its
// title; a date (data-date) is the day, a clock time (data-clock) the time
// of day, in the viewer's zone.
const language = document.documentElement.lang || undefined;
const localTime = new Intl.DateTimeFormat(language, {
  year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
});
const localDate = new Intl.DateTimeFormat(language, { year: "numeric", month: "short", day: "numeric" });
const localClock = new Intl.DateTimeFormat(language, { hour: "numeric", minute: "2-digit" });
const relative = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
const ago = (at) => {
  const seconds = (at.getTime() - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) {
    return relative.format(0, "second");
  }
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size);
  return relative.format(Math.round(seconds / size), unit);
};
const showLocalTimes = (root) => {
  for (const time of root.matches("time[datetime]") ? [root] : root.querySelectorAll("time[datetime]")) {
    const at = new Date(time.dateTime);
    if (!time.dataset.local && !Number.isNaN(at.getTime())) {
      time.dataset.local = "";
      time.title = localTime.format(at);
      time.textContent = "date" in time.dataset ? localDate.format(at) : "clock" in time.dataset ? localClock.format(at) : ago(at);
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
