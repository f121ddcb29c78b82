// The pages' actions: every change goes to the JSON API (/api/v1/...) with the session cookie and the page's CSRF
// value in the X-CSRF-Token header. Texts come from the page (<script type="application/json" id="page-texts">),
// in the page's language. No framework, no build step.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const textsNode = document.getElementById("page-texts");
  const texts = textsNode ? JSON.parse(textsNode.textContent) : {};
  // Reason code → [the domain's English sentence, the same in the page's language], where one is translated.
  const reasonsNode = document.getElementById("page-reasons");
  const reasonSentences = reasonsNode ? JSON.parse(reasonsNode.textContent) : {};
  const messages = document.getElementById("messages");
  const POLL_MS = 1000;
  const POLL_LIMIT_MS = 5 * 60 * 1000;

  // A failed sign-in link keeps no token in the address bar or the history.
  if (location.pathname === "/launch" && location.search) {
    history.replaceState(null, "", location.pathname);
  }

  function t(key, params = {}) {
    const text = texts[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  function reasonText(reason) {
    const [english, translated] = reasonSentences[reason.code] ?? [];
    return translated !== undefined && reason.message === english ? translated : reason.message;
  }

  function say(text, kind = "info") {
    if (!messages) return;
    if (!text) return messages.replaceChildren();
    const line = document.createElement("p");
    line.className = `message message-${kind}`;
    line.textContent = text;
    messages.replaceChildren(line);
  }

  // The page is loaded again after a change, to show the new state; what was said survives that one reload.
  function reloadSaying(text, kind = "success") {
    sessionStorage.setItem("spotilla-procountor-said", JSON.stringify({ text, kind }));
    location.assign(location.pathname);
  }

  const said = sessionStorage.getItem("spotilla-procountor-said");
  if (said) {
    sessionStorage.removeItem("spotilla-procountor-said");
    const { text, kind } = JSON.parse(said);
    say(text, kind);
  }

  async function api(method, url, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  }

  // A sentence for an answer that is not a success and not a field error.
  function problem(answer) {
    if (answer.status === 0) return t("js.network");
    if (answer.status === 401) return t("js.session_ended");
    if (typeof answer.data?.detail === "string") return answer.data.detail;
    if (answer.status === 403) return t("js.forbidden");
    return t("js.failed", { status: answer.status });
  }

  // Buttons stay usable by keyboard and announce that something is under way.
  async function busy(button, work) {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    say(t("js.working"));
    try {
      await work();
    } finally {
      button.removeAttribute("aria-disabled");
    }
  }

  // -- forms ------------------------------------------------------------------------------------------------------

  function formBody(form) {
    const body = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled || element.closest("[hidden]")) continue;
      if (element.type === "radio") {
        if (element.checked) body[element.name] = element.value;
      } else if (element.type === "checkbox") {
        body[element.name] = element.checked;
      } else if (element.value.trim() !== "" || element.dataset.empty !== "omit") {
        body[element.name] = element.value.trim();
      }
    }
    return body;
  }

  function clearErrors(form) {
    for (const error of form.querySelectorAll("[data-error-for]")) {
      error.hidden = true;
      error.textContent = "";
    }
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    const summary = form.querySelector("[data-form-summary]");
    if (summary) {
      summary.hidden = true;
      summary.textContent = "";
    }
  }

  // FastAPI's 422 shape: detail = [{loc: ["body", "bank_account"], msg, type}, ...]. Each problem is shown next
  // to its field, in the page's language where the catalogue has a sentence for the field's problem (else the
  // API's own); problems of no field on the form go to the message area. Returns whether any field got one.
  function showFieldErrors(form, problems) {
    const unplaced = [];
    for (const item of problems) {
      const name = [...(item.loc ?? [])].reverse().find((part) => typeof part === "string" && form.elements[part]);
      const error = name && form.querySelector(`[data-error-for="${name}"]`);
      if (!error) {
        unplaced.push(item.msg);
        continue;
      }
      const text = texts[`js.field.${name}.${item.type}`] ?? texts[`js.field.${item.type}`] ?? item.msg;
      error.textContent = error.textContent ? `${error.textContent} ${text}` : text;
      error.hidden = false;
      const field = form.elements[name];
      for (const input of field instanceof RadioNodeList ? [...field] : [field]) {
        input.setAttribute("aria-invalid", "true");
      }
    }
    if (unplaced.length) say(unplaced.join(" "), "error");
    const first = [...form.elements].find((input) => input.getAttribute("aria-invalid") === "true");
    if (!first) return false;
    const summary = form.querySelector("[data-form-summary]");
    summary.textContent = t("js.fix_fields");
    summary.hidden = false;
    first.focus();
    return true;
  }

  async function submitForm(form) {
    clearErrors(form);
    say("");
    const answer = await api(form.dataset.method, form.dataset.url, formBody(form));
    if (answer.ok) {
      reloadSaying(t(form.dataset.done));
      return;
    }
    if (answer.status === 422 && Array.isArray(answer.data?.detail) && showFieldErrors(form, answer.data.detail)) {
      return;
    }
    if (answer.status === 409) {
      // Another company's key: the form asks for the confirmation the API wants.
      const confirm = form.querySelector("[data-switch-company]");
      if (confirm) confirm.hidden = false;
    }
    say(problem(answer), "error");
  }

  for (const form of document.querySelectorAll("form.api-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      busy(button, () => submitForm(form));
    });
  }

  // -- runs -------------------------------------------------------------------------------------------------------

  const organization = location.pathname.match(/^\/organizations\/(\d+)\//)?.[1];
  const base = `/api/v1/organizations/${organization}`;

  // After a run was asked for: the page reloads once a run newer than the page's newest has finished (or gives up
  // after five minutes). The page's newest is the one it was rendered with: a run that ends before the first look
  // is still seen.
  function reloadWhenRunEnds() {
    const known = document.querySelector("[data-newest-run]")?.dataset.newestRun ?? "";
    const started = Date.now();
    const poll = async () => {
      const now = await api("GET", `${base}/status`);
      const newest = now.ok ? now.data.last_runs[0] : null;
      if (newest && String(newest.id) !== known && newest.finished_at && !now.data.run_queued) {
        reloadSaying(t("js.run.finished"));
      } else if (Date.now() - started < POLL_LIMIT_MS) {
        setTimeout(poll, POLL_MS);
      }
    };
    setTimeout(poll, POLL_MS);
  }

  function runRequested(answer) {
    say(t(`js.run.${answer.outcome}`), answer.outcome === "not_served" ? "info" : "success");
    if (answer.outcome !== "not_served") reloadWhenRunEnds();
  }

  async function runNow() {
    const answer = await api("POST", `${base}/sync`);
    if (answer.ok || answer.status === 429) runRequested(answer.data);
    else say(problem(answer), "error");
  }

  async function retry(url) {
    const answer = await api("POST", url);
    if (!answer.ok) return say(problem(answer), "error");
    say(t("js.retry.done", { count: answer.data.requeued }), "success");
    runRequested(answer.data.run);
  }

  // -- preview ----------------------------------------------------------------------------------------------------

  function element(name, attributes = {}, ...children) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  function eventTable(events) {
    if (!events.length) return element("p", { class: "empty" }, t("js.preview.none"));
    const head = element(
      "tr",
      {},
      ...["kind", "spotilla_id", "name", "reasons"].map((c) => element("th", { scope: "col" }, t(`js.preview.${c}`))),
    );
    const rows = events.map((event) => {
      const reasons = element(
        "ul",
        { class: "reasons" },
        ...event.reasons.map((r) => element("li", {}, `${reasonText(r)} `, element("span", { class: "code" }, r.code))),
      );
      return element(
        "tr",
        {},
        element("td", {}, t(`kind.${event.kind}`)),
        element("td", { class: "num" }, String(event.spotilla_id ?? "–")),
        element("td", {}, event.name ?? "–"),
        element("td", {}, reasons),
      );
    });
    const table = element("table", {}, element("thead", {}, head), element("tbody", {}, ...rows));
    return element("div", { class: "table-scroll" }, table);
  }

  function showPreview(preview) {
    const section = document.getElementById("preview");
    const parts = [];
    if (preview.error) parts.push(element("p", { class: "message message-error" }, `${t("js.preview.failed")} ${preview.error}`));
    const counts = { create: preview.would_create.length, update: preview.would_update.length, held_back: preview.held_back.length };
    parts.push(element("p", { class: "preview-summary" }, t("js.preview.summary", counts)));
    for (const [key, events] of [["create", preview.would_create], ["update", preview.would_update], ["held_back", preview.held_back]]) {
      parts.push(element("h3", {}, `${t(`js.preview.${key}`)} (${events.length})`), eventTable(events));
    }
    document.getElementById("preview-body").replaceChildren(...parts);
    section.hidden = false;
    section.focus();
  }

  async function preview() {
    const answer = await api("POST", `${base}/sync?dry_run=true`);
    if (!answer.ok) return say(problem(answer), "error");
    say("");
    showPreview(answer.data);
  }

  // -- switching off ----------------------------------------------------------------------------------------------

  async function switchOff() {
    const answer = await api("DELETE", `${base}/integration`);
    document.getElementById("switch-off-dialog")?.close();
    if (!answer.ok) return say(problem(answer), "error");
    reloadSaying(t("js.switched_off"));
  }

  const actions = {
    "run-now": () => runNow(),
    preview: () => preview(),
    retry: (button) => retry(`${base}/items/${button.dataset.kind}/${button.dataset.id}/retry`),
    "retry-failed": () => retry(`${base}/retry-failed`),
    "switch-off": () => switchOff(),
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "open-switch-off") {
      document.getElementById("switch-off-dialog").showModal();
    } else if (button.dataset.action in actions) {
      event.preventDefault();
      busy(button, () => actions[button.dataset.action](button));
    }
  });
})();
