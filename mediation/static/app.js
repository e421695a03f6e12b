// Small behaviours without inline scripts (the CSP forbids them). Every page works
// without JavaScript too: the party buttons then submit and the server redraws the form.
(function () {
  "use strict";

  // Irreversible actions ask first, once: a second tap while the confirmed one is on its
  // way is dropped, not asked again.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (!message) {
      return;
    }
    if (event.target.hasAttribute("data-confirmed") || !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    event.target.setAttribute("data-confirmed", "1");
  });

  // No network (a phone out of signal): the form is not sent, so what was typed stays on the
  // page; sent, it would end on the browser's offline page, and Back brings an empty form.
  document.addEventListener("submit", function (event) {
    var sent = event.target;
    var message = document.body.getAttribute("data-offline-submit");
    if (navigator.onLine !== false || !message || (sent.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    event.preventDefault();
    event.stopPropagation();  // before the guard against a second tap disables the button
    var note = document.getElementById("offline-note");
    if (!note) {
      note = document.createElement("div");
      note.id = "offline-note";
      note.className = "alert alert-warning";
      note.setAttribute("role", "alert");
      note.tabIndex = -1;
      var main = document.querySelector("main") || document.body;
      main.insertBefore(note, main.firstChild);
    }
    note.textContent = message;
    note.hidden = false;
    note.focus();
  }, true);
  window.addEventListener("online", function () {
    var note = document.getElementById("offline-note");
    if (note) { note.hidden = true; }
  });

  // One tap, one record: a form that creates something (it carries a submission key), or
  // one whose second tap would only be refused (data-one-tap), takes no second tap while it
  // is being sent. The server is the guard (the key);
  // this only spares the second request. Disabled after the event, so that the
  // tapped button's own name and value are still sent.
  document.addEventListener("submit", function (event) {
    var sent = event.target;
    if (event.defaultPrevented || !(sent.matches("[data-one-tap]") || sent.querySelector("input[name=submission_key]"))) {
      return;
    }
    window.setTimeout(function () {
      sent.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("data-sent", "1");
      });
    }, 0);
  });
  // Back to the page from the history: the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-sent]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("data-sent");
    });
    document.querySelectorAll("[data-confirmed]").forEach(function (f) {
      f.removeAttribute("data-confirmed");
    });
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
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin",
                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.ok) { return response.json(); }
        // The session ended (401) or the form's token is stale (400): the server says why.
        return response.json().catch(function () { return {}; }).then(function (data) {
          var error = new Error(String(response.status));
          error.message = data && data.error ? data.error : "";
          error.fromServer = true;
          throw error;
        });
      })
      .then(function (data) {
        draftInput.value = String(data.id);
        failed = false;
        status.classList.remove("text-danger");
        status.textContent = i18n.getAttribute("data-saved").replace("__t__", data.saved_at);
      })
      .catch(function (error) {
        dirty = true;
        failed = true;
        // Only the server's own words: a network failure's ("Failed to fetch") is the browser's, in English.
        if (error && error.fromServer && error.message && !/^\d+$/.test(error.message)) {
          status.classList.add("text-danger");
          status.textContent = error.message;
        } else {
          status.textContent = i18n.getAttribute("data-offline");
        }
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

// Agreement form: "add a term" adds an empty term in place. Without JavaScript the
// button submits and the server draws the form again with one more term.
(function () {
  "use strict";

  var button = document.getElementById("add-term");
  var terms = document.getElementById("terms");
  var template = document.getElementById("term-template");
  if (!button || !terms || !template) { return; }
  var max = parseInt(terms.getAttribute("data-max"), 10) || 50;

  button.addEventListener("click", function (event) {
    var count = terms.querySelectorAll(".term-card").length;
    if (count >= max) { return; }
    event.preventDefault();
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__i__").join(String(count))
      .split("__n__").join(String(count + 1)).trim();
    var card = holder.firstElementChild;
    terms.appendChild(card);
    if (count + 1 >= max) { button.hidden = true; }
    var box = card.querySelector("textarea");
    if (box) { box.focus(); }
  });
})();

// Related cases at intake: when a party's ID number, name with birth date, or name
// with phone is filled, ask the server whether the same person is in other cases of
// the network, and show its notice under the parties (see mediation/related).
(function () {
  "use strict";

  var notice = document.getElementById("related-notice");
  var form = document.getElementById("case-form");
  if (!notice || !form) { return; }
  var timer = null;
  var last = "";

  function partyData() {
    var data = new FormData();
    var any = false;
    form.querySelectorAll(".party-card").forEach(function (card) {
      ["name", "birth_date", "phone", "id_number"].forEach(function (key) {
        var input = card.querySelector("[name$='-" + key + "']");
        if (input && input.value.trim()) {
          data.append(input.name, input.value.trim());
          if (key !== "name") { any = true; }
        }
      });
    });
    return any ? data : null;
  }

  function check() {
    var data = partyData();
    if (!data) { notice.innerHTML = ""; last = ""; return; }
    data.append("exclude", notice.getAttribute("data-exclude") || "");
    var key = JSON.stringify(Array.from(data.entries()));
    if (key === last) { return; }
    last = key;
    var token = form.querySelector("input[name=csrf_token]");
    fetch(notice.getAttribute("data-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; })
          .then(function (body) { return { ok: response.ok, body: body || {} }; });
      })
      .then(function (result) {
        if (result.ok) { notice.innerHTML = result.body.html || ""; return; }
        // Not checked (too many checks, say): an earlier result no longer holds for what is
        // typed now, so it goes, and the server's reason shows; the next change asks again.
        last = "";
        notice.innerHTML = "";
        if (result.body.error) {
          var alert = document.createElement("div");
          alert.className = "alert alert-secondary small mb-2";
          alert.id = "related-not-checked";
          alert.textContent = result.body.error;
          notice.appendChild(alert);
        }
      })
      .catch(function () { last = ""; });
  }

  form.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (!name || !/^parties-\d+-(name|birth_date|phone|id_number)$/.test(name)) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 300);
  });
  check();
})();

// Statistics: show only the fields of the chosen period (month; quarter and year; year;
// from and to), and keep the quarter's values on the year in the year box (the server
// takes the year box for a quarter too). Without JavaScript every field shows.
(function () {
  "use strict";

  var form = document.getElementById("stats-filter");
  var kind = document.getElementById("stats-kind");
  if (!form || !kind) { return; }
  var year = document.getElementById("stats-year");
  var quarter = document.getElementById("stats-quarter");

  function syncQuarter() {
    if (!year || !quarter || !/^\d{4}$/.test(year.value)) { return; }
    Array.prototype.forEach.call(quarter.options, function (option) {
      option.value = option.value.replace(/^\d{4}(?=-Q)/, year.value);
    });
  }

  function showFields() {
    form.querySelectorAll("[data-period-field]").forEach(function (field) {
      var kinds = field.getAttribute("data-period-field").split(" ");
      field.hidden = kinds.indexOf(kind.value) < 0;
    });
  }

  kind.addEventListener("change", showFields);
  if (year) { year.addEventListener("input", syncQuarter); year.addEventListener("change", syncQuarter); }
  form.addEventListener("submit", syncQuarter);
  syncQuarter();
  showFields();
})();

// A form sent back with errors: the page goes to the summary at its top, and a tap on an
// error goes to its field and puts the cursor there, clear of the sticky save bar (the CSS
// keeps a scroll margin for that bar).
(function () {
  "use strict";

  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.scrollIntoView({ block: "start" });
  summary.focus({ preventScroll: true });

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!target) { return; }
    event.preventDefault();
    var control = target.matches("input, select, textarea") ? target
      : target.querySelector("input:not([type=hidden]), select, textarea");
    (control || target).scrollIntoView({ block: "center" });
    if (control) { control.focus({ preventScroll: true }); }
  });
})();

// No silent truncation: the server renders a field's limit as data-maxlength, never maxlength
// (a browser cuts pasted text at maxlength without a word). The limit is shown when passed, on
// fields of the page and on those added later (a party card, an agreement's term); the server
// refuses an over-long value with its own message and keeps what was typed.
(function () {
  "use strict";
  var many = document.body.getAttribute("data-too-long");
  var one = document.body.getAttribute("data-too-long-one") || many;
  if (!many) { return; }
  var made = 0;

  function noteOf(field, create) {
    if (!field.id) { made += 1; field.id = "field-" + made + "-" + (field.name || "text").replace(/[^\w-]/g, "-"); }
    var id = field.id + "-too-long";
    var note = document.getElementById(id);
    if (note || !create) { return note; }
    note = document.createElement("div");
    note.className = "form-text text-danger too-long w-100";
    note.id = id;
    note.setAttribute("aria-live", "polite");
    // Beside a button in a row (a flex container), the note goes under the whole row.
    var anchor = field.closest(".input-group") || field;
    var parent = anchor.parentElement;
    if (parent && parent.tagName !== "TD" && window.getComputedStyle(parent).display.indexOf("flex") !== -1
        && !parent.classList.contains("row")) {
      anchor = parent;
    }
    anchor.insertAdjacentElement("afterend", note);
    return note;
  }

  function check(field) {
    var max = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!(max > 0)) { return; }
    var over = Array.from(field.value.trim()).length - max;  // the server trims before it counts
    var note = noteOf(field, over > 0);
    if (!note) { return; }
    var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== note.id;
    });
    note.hidden = over <= 0;
    note.textContent = over > 0 ? (over === 1 ? one : many).replace("__n__", over).replace("__max__", max) : "";
    if (over > 0) { ids.push(note.id); }
    if (ids.length) { field.setAttribute("aria-describedby", ids.join(" ")); }
    else { field.removeAttribute("aria-describedby"); }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-maxlength]")) { check(event.target); }
  });
  // A page shown again with the text the server refused, or a draft put back.
  document.querySelectorAll("[data-maxlength]").forEach(check);

  // A form with a field past its limit is not sent (a draft's save is): the note says what to
  // shorten and the text stays where it is (a small form of the case page would come back empty).
  document.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.hasAttribute("formnovalidate")) { return; }
    // The form's own controls, also those outside its element (a form in a table row).
    var over = Array.from(event.target.elements || []).filter(function (field) {
      if (!field.hasAttribute("data-maxlength")) { return false; }
      check(field);
      var note = document.getElementById(field.id + "-too-long");
      return note && !note.hidden;
    });
    if (over.length) {
      event.preventDefault();
      event.stopPropagation();  // before the guard against a second tap disables the button
      // The form is not sent, so the server cannot say yet what is missing: say it now, so that
      // both are put right in one round (QA: a long field, then the empty ones, came in two).
      var empties = [];
      Array.from(event.target.elements || []).forEach(function (field) {
        // The server's messages of the round before no longer hold: what holds the form back
        // now is said below (too long, still empty). Removed, not hidden: they are d-block.
        var stale = field.classList && field.classList.contains("is-invalid") && field.parentElement &&
          field.parentElement.querySelector(".invalid-feedback");
        if (stale) { stale.remove(); }
        if (field.required && !field.value.trim()) { markEmpty(field); empties.push(field); }
        else if (field.classList && over.indexOf(field) < 0) {
          field.classList.remove("is-invalid");
          field.removeAttribute("aria-invalid");
        }
      });
      summarise(over, empties);
      over[0].focus();
    }
  }, true);

  // The summary at the top says what holds the form back now, not what the server said the
  // round before (QA: it still listed fields filled since, and not the one too long).
  function summarise(over, empties) {
    var summary = document.getElementById("error-summary");
    var list = summary && summary.querySelector("ul");
    if (!list) { return; }
    list.innerHTML = "";
    over.concat(empties).forEach(function (field) {
      var note = document.getElementById(field.id + (over.indexOf(field) >= 0 ? "-too-long" : "-still-empty"));
      var label = field.id && document.querySelector("label[for='" + field.id + "']");
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.className = "alert-link fw-normal";
      link.href = "#" + field.id;
      var colon = document.documentElement.lang.indexOf("zh") === 0 ? "：" : ": ";
      link.textContent = (label ? label.textContent.trim() + colon : "") + (note ? note.textContent : "");
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  var empty = document.body.getAttribute("data-still-empty");
  function markEmpty(field) {
    if (!empty || document.getElementById(field.id + "-still-empty")) { return; }
    if (!field.id) { made += 1; field.id = "field-" + made + "-" + (field.name || "text").replace(/[^\w-]/g, "-"); }
    var note = document.createElement("div");
    note.className = "form-text text-danger still-empty w-100";
    note.id = field.id + "-still-empty";
    note.textContent = empty;
    field.insertAdjacentElement("afterend", note);
    field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + note.id).trim());
    field.addEventListener("input", function () {
      if (!field.value.trim()) { return; }
      note.remove();
      var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== note.id; });
      if (ids.length) { field.setAttribute("aria-describedby", ids.join(" ")); }
      else { field.removeAttribute("aria-describedby"); }
    });
  }

  // A search longer than is searched is sent cut, saying so (cut=1): the server shows what it
  // searched. Sent whole, 450 Chinese characters make an address longer than a server takes.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "get") { return; }
    form.querySelectorAll("input[data-search-max]").forEach(function (input) {
      var max = parseInt(input.getAttribute("data-search-max"), 10);
      var chars = Array.from(input.value.trim());
      if (max > 0 && chars.length > max) {
        input.value = chars.slice(0, max).join("");
        var flag = form.querySelector("input[name=cut]");
        if (!flag) {
          flag = document.createElement("input");
          flag.type = "hidden";
          flag.name = "cut";
          flag.value = "1";
          form.appendChild(flag);
        }
      }
    });
  }, true);
})();
