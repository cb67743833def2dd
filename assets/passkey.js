// Passkey ceremonies (WebAuthn), for the forms marked data-passkey: the
// form asks the server for the ceremony's options (data-begin), has the
// browser create or use a passkey, puts the result in its "credential"
// field and is then submitted as a plain form, so the server answers with
// a page as it does for every form. Without JavaScript, or in a browser
// without passkeys, the forms stay hidden and the note that says so shows.
"use strict";

const supported = window.PublicKeyCredential &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

for (const form of document.querySelectorAll("form[data-passkey]")) {
  if (!supported) {
    continue;
  }
  form.hidden = false;
  for (const note of document.querySelectorAll("[data-passkey-unsupported]")) {
    note.hidden = true;
  }
  const status = form.querySelector("[data-passkey-status]");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.hidden = true;
    button.disabled = true;
    try {
      const token = form.elements.csrfmiddlewaretoken.value;
      const response = await fetch(form.dataset.begin, {
        method: "POST",
        body: new URLSearchParams({ csrfmiddlewaretoken: token }),
        headers: { "X-CSRF-Token": token },
        credentials: "same-origin",
      });
      if (!response.ok || !response.headers.get("Content-Type")?.startsWith("application/json")) {
        throw new Error("the server refused to start: " + response.status);
      }
      const options = (await response.json()).publicKey;
      const credential = form.dataset.passkey === "register"
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      HTMLFormElement.prototype.submit.call(form);
    } catch (error) {
      button.disabled = false;
      // The words are the page's, in its language (data-cancelled, data-failed).
      status.textContent = error.name === "NotAllowedError" ? status.dataset.cancelled : status.dataset.failed;
      status.hidden = false;
    }
  });
}
