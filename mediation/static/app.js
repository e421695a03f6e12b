// Small behaviours without inline scripts (the CSP forbids them). Every page works
// without JavaScript too: the party buttons then submit and the server redraws the form.
(function () {
  "use strict";

  // Irreversible actions ask first.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  var form = document.getElementById("case-form");
  if (!form) {
    return;
  }

  // --- parties: add and remove cards in place --------------------------------------
  var parties = document.getElementById("parties");
  var template = document.getElementById("party-template");

  function renumber() {
    parties.querySelectorAll(".party-card .party-no").forEach(function (el, n) {
      el.textContent = String(n + 1);
    });
  }

  function nextIndex() {
    var max = -1;
    parties.querySelectorAll(".party-card").forEach(function (card) {
      max = Math.max(max, parseInt(card.getAttribute("data-index"), 10));
    });
    return max + 1;
  }

  document.getElementById("add-party").addEventListener("click", function (event) {
    event.preventDefault();
    var i = nextIndex();
    var html = template.innerHTML.split("__i__").join(String(i));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var card = holder.firstElementChild;
    card.setAttribute("data-index", String(i));
    card.querySelector(".party-remove").value = String(i);
    var role = card.querySelector("select[name$='-role']");
    if (role) { role.value = "third_party"; }
    parties.appendChild(card);
    renumber();
    markDirty();
    var name = card.querySelector("input[name$='-name']");
    if (name) { name.focus(); }
  });

  parties.addEventListener("click", function (event) {
    var button = event.target.closest(".party-remove");
    if (!button) { return; }
    event.preventDefault();
    button.closest(".party-card").remove();
    renumber();
    markDirty();
  });

  // --- drafts saved on the server while typing ---------------------------------------
  var url = form.getAttribute("data-autosave-url");
  var status = document.getElementById("draft-status");
  var i18n = document.getElementById("i18n");
  var draftInput = form.querySelector("input[name=draft_id]");
  var dirty = false;
  var saving = false;
  var submitting = false;
  var failed = false;

  function markDirty() { dirty = true; }

  if (!url) { return; }

  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () { submitting = true; });

  function save() {
    if (!dirty || saving || submitting) { return; }
    saving = true;
    dirty = false;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        draftInput.value = String(data.id);
        failed = false;
        status.textContent = i18n.getAttribute("data-saved").replace("__t__", data.saved_at);
      })
      .catch(function () {
        dirty = true;
        failed = true;
        status.textContent = i18n.getAttribute("data-offline");
      })
      .finally(function () { saving = false; });
  }

  window.setInterval(save, 5000);

  // Leaving the page: hand the last state to the server even as the page closes.
  function flush() {
    if (dirty && !submitting && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, new FormData(form))) { dirty = false; }
    }
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (failed && dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
