// The editors' page: what visitors searched and failed to find, what such a
// search shows, and the synonym sets that fix it. One small script, no build
// step, no dependencies; it calls only the service's own API.
//
// The API key is typed into the page and kept in sessionStorage, so it lasts
// for this tab and is gone when the tab closes; it is sent only as an
// Authorization header to this origin, never in a URL.
//
// Safety, as on the search page: text from the API goes into the page as
// text, never as markup. Highlight fragments have their <mark> tags split out
// by exact match and the rest decoded as text, so a query or title holding a
// script tag shows those characters and runs nothing. No inline styles or
// handlers, so the server's Content-Security-Policy (default-src 'self')
// holds.
"use strict";

(() => {
  const KEY_STORAGE = "labor-search.admin-key";
  const QUERY_LIMIT = 50;
  const PERIODS = ["7", "30"];
  const VIEWS = ["all", "zero_results", "relaxed", "no_clicks"];
  const VIEW_LABELS = {
    all: "Top queries",
    zero_results: "Queries that found nothing",
    relaxed: "Queries only partly matched",
    no_clicks: "Queries without a click",
  };
  // The longest id the API takes.
  const MAX_ID = 64;

  const $ = (id) => document.getElementById(id);
  const keyPanel = $("key-panel");
  const keyForm = $("key-form");
  const keyInput = $("key");
  const keyError = $("key-error");
  const forgetKey = $("forget-key");
  const workspace = $("workspace");
  const summary = $("summary");
  const daysBody = $("days-body");
  const queriesCaption = $("queries-caption");
  const queriesBody = $("queries-body");
  const queriesTable = $("queries");
  const queriesEmpty = $("queries-empty");
  const queriesError = $("queries-error");
  const inspectHeading = $("inspect-heading");
  const inspectStats = $("inspect-stats");
  const inspectError = $("inspect-error");
  const results = $("results");
  const addFromQuery = $("add-from-query");
  const synForm = $("syn-form");
  const synRoot = $("syn-root");
  const synTerms = $("syn-terms");
  const synRootLabel = $("syn-root-label");
  const synTermsLabel = $("syn-terms-label");
  const synID = $("syn-id");
  const synError = $("syn-error");
  const synStatus = $("syn-status");
  const synList = $("syn-list");
  const synEmpty = $("syn-empty");
  const synCount = $("syn-count");
  const synListError = $("syn-list-error");
  const synListStatus = $("syn-list-status");

  // ---- DOM helpers ---------------------------------------------------------
  // h and highlighted are dom.js's, shared with the search page.
  const { h, highlighted } = window.laborDOM;

  function show(el, content) {
    if (content === null || content === undefined || content === "") {
      el.hidden = true;
      el.replaceChildren();
      return;
    }
    el.replaceChildren(content);
    el.hidden = false;
  }

  const count = (n) => Number(n || 0).toLocaleString("en");
  const plural = (n, one, many) => `${count(n)} ${Number(n) === 1 ? one : many}`;
  const percent = (rate, searches) => (Number(searches) > 0 ? `${(Number(rate) * 100).toFixed(1)}%` : "–");
  const dayFormat = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });
  const whenFormat = new Intl.DateTimeFormat("en", {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC",
  });
  function formatDay(day) {
    const t = Date.parse(day + "T00:00:00Z");
    return Number.isNaN(t) ? String(day) : dayFormat.format(t);
  }
  function formatWhen(stamp) {
    const t = Date.parse(stamp);
    return Number.isNaN(t) ? String(stamp || "") : whenFormat.format(t);
  }

  // ---- The API ------------------------------------------------------------

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  let key = "";
  try { key = sessionStorage.getItem(KEY_STORAGE) || ""; } catch { key = ""; }

  // In replicated mode a write answers with the log sequence it became
  // (Search-Seq), and the next read names it (min_seq) so that whichever
  // replica answers has applied the editor's own change; a single node
  // sends no such header and the reads go without.
  let minSeq = 0;
  const afterWrites = (params) => {
    if (minSeq > 0) params.set("min_seq", String(minSeq));
    return params;
  };

  // api calls the service and returns the decoded JSON body, or throws an
  // APIError carrying the envelope's message. A 401 also takes the page back
  // to the key form, since nothing else can work until the key is right.
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = "Bearer " + key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      // no-store: an editor must see counts and results as they are now,
      // not as a cache kept them.
      res = await fetch(path, {
        method, headers, cache: "no-store", credentials: "omit",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new APIError(0, "unreachable", "Cannot reach the search service. Check that it is running, then retry.");
    }
    const seq = Number(res.headers.get("Search-Seq"));
    if (Number.isSafeInteger(seq) && seq > minSeq) minSeq = seq;
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    const e = data && data.error;
    if (!res.ok) {
      const message = e && e.message ? e.message : `The service answered ${res.status} ${res.statusText}.`;
      const err = new APIError(res.status, e && e.code ? e.code : "", message);
      if (res.status === 401) askForKey(`The service did not accept this key (401: ${message}). Type the key again.`);
      throw err;
    }
    if (data === null || typeof data !== "object") {
      throw new APIError(res.status, "bad_answer", "The service sent an answer this page does not understand.");
    }
    return data;
  }

  // errorText is what an error box says: the API's message, with its code
  // when there is one, so an editor can look it up.
  function errorText(err) {
    if (!(err instanceof APIError)) return "Something went wrong on this page: " + String(err && err.message ? err.message : err);
    return err.code && err.status ? `${err.message} (${err.status} ${err.code})` : err.message;
  }

  // ---- The key -------------------------------------------------------------

  function askForKey(message) {
    key = "";
    try { sessionStorage.removeItem(KEY_STORAGE); } catch { /* storage off: nothing kept */ }
    workspace.hidden = true;
    forgetKey.hidden = true;
    keyPanel.hidden = false;
    show(keyError, message || "");
    keyInput.value = "";
    keyInput.setAttribute("aria-invalid", message ? "true" : "false");
    keyInput.focus();
    document.body.dataset.view = "key";
  }

  keyForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const typed = keyInput.value.trim();
    if (!typed) {
      show(keyError, "Type the service's API key.");
      keyInput.setAttribute("aria-invalid", "true");
      keyInput.focus();
      return;
    }
    // fetch refuses a header with other characters, so say so here.
    if (/[^\x21-\x7e]/.test(typed)) {
      show(keyError, "An API key has no spaces or characters beyond plain ASCII; check what was pasted.");
      keyInput.setAttribute("aria-invalid", "true");
      keyInput.focus();
      return;
    }
    key = typed;
    try { sessionStorage.setItem(KEY_STORAGE, key); } catch { /* storage off: kept in this page only */ }
    keyInput.value = "";
    start();
  });

  forgetKey.addEventListener("click", () => {
    askForKey("");
  });

  function start() {
    show(keyError, "");
    keyInput.removeAttribute("aria-invalid");
    keyPanel.hidden = true;
    workspace.hidden = false;
    forgetKey.hidden = false;
    document.body.dataset.view = "workspace";
    loadAnalytics();
    loadSynonyms();
  }

  // ---- Period and view, kept in the URL so a view can be bookmarked -------

  function readChoice() {
    const p = new URLSearchParams(location.search);
    return {
      period: PERIODS.includes(p.get("days")) ? p.get("days") : "7",
      view: VIEWS.includes(p.get("view")) ? p.get("view") : "all",
    };
  }
  let choice = readChoice();

  function syncChoice() {
    for (const el of document.querySelectorAll('input[name="period"]')) el.checked = el.value === choice.period;
    for (const el of document.querySelectorAll('input[name="view"]')) el.checked = el.value === choice.view;
  }

  function onChoice() {
    const period = document.querySelector('input[name="period"]:checked');
    const view = document.querySelector('input[name="view"]:checked');
    choice = { period: period ? period.value : "7", view: view ? view.value : "all" };
    const p = new URLSearchParams();
    if (choice.period !== "7") p.set("days", choice.period);
    if (choice.view !== "all") p.set("view", choice.view);
    history.replaceState(null, "", "/admin" + (p.toString() ? "?" + p : ""));
    loadAnalytics();
  }
  for (const el of document.querySelectorAll('input[name="period"], input[name="view"]')) el.addEventListener("change", onChoice);

  // range is the last n days including today, as UTC dates, which is how
  // the service files searches.
  function range(days) {
    const day = (t) => new Date(t).toISOString().slice(0, 10);
    const now = Date.now();
    return { from: day(now - (Number(days) - 1) * 86400000), to: day(now) };
  }

  // ---- Analytics -----------------------------------------------------------

  let analyticsSeq = 0;
  let selected = null; // the query whose results show, or null

  async function loadAnalytics() {
    const seq = ++analyticsSeq;
    const { from, to } = range(choice.period);
    const view = choice.view;
    queriesTable.setAttribute("aria-busy", "true");
    document.body.dataset.analytics = "loading";
    const [sum, list] = await Promise.allSettled([
      api("GET", `/v1/analytics/summary?${new URLSearchParams({ from, to })}`),
      api("GET", `/v1/analytics/queries?${new URLSearchParams({ from, to, filter: view, limit: String(QUERY_LIMIT) })}`),
    ]);
    if (seq !== analyticsSeq) return;
    queriesTable.removeAttribute("aria-busy");
    if (!key) return; // a 401 took the page back to the key form
    if (sum.status === "fulfilled") renderSummary(sum.value, from, to);
    else { summary.textContent = ""; daysBody.replaceChildren(); }
    if (list.status === "fulfilled") {
      show(queriesError, "");
      renderQueries(list.value, view, from, to);
    } else {
      queriesBody.replaceChildren();
      queriesCaption.textContent = VIEW_LABELS[view];
      show(queriesEmpty, "");
      show(queriesError, errorText(list.reason));
    }
    if (sum.status === "rejected" && list.status === "fulfilled") show(queriesError, errorText(sum.reason));
    document.body.dataset.analytics = `${view}:${choice.period}`;
  }

  function renderSummary(body, from, to) {
    const t = body.totals || {};
    summary.replaceChildren(
      h("strong", null, plural(t.searches, "search", "searches")),
      ` from ${formatDay(body.from || from)} to ${formatDay(body.to || to)} (UTC) · `,
      h("span", { id: "zero-rate" }, `${percent(t.zero_result_rate, t.searches)} found nothing`),
      " · ",
      h("span", { id: "relaxed-rate" }, `${percent(t.relaxed_rate, t.searches)} partly matched`),
      " · ",
      h("span", { id: "ctr" }, `${percent(t.click_through_rate, t.searches)} click-through`));
    const days = Array.isArray(body.days) ? body.days.slice().reverse() : [];
    daysBody.replaceChildren(...days.map((d) => h("tr", null,
      h("th", { scope: "row" }, h("time", { datetime: d.date }, formatDay(d.date))),
      h("td", { class: "num" }, count(d.searches)),
      h("td", { class: "num" }, percent(d.zero_result_rate, d.searches)),
      h("td", { class: "num" }, percent(d.click_through_rate, d.searches)))));
  }

  function renderQueries(body, view, from, to) {
    const rows = Array.isArray(body.queries) ? body.queries : [];
    const total = Number(body.total) || rows.length;
    queriesCaption.textContent = `${VIEW_LABELS[view]}, ${formatDay(from)} – ${formatDay(to)}` +
      (total > rows.length ? ` (the first ${count(rows.length)} of ${count(total)})` : "");
    queriesBody.replaceChildren(...rows.map((row) => {
      const zero = Number(row.zero_results) || 0;
      const pick = h("button", {
        type: "button", class: "query-pick", "data-query": row.query,
        "aria-pressed": String(selected === row.query),
        onclick: () => inspect(row.query, { from: "list" }),
      }, row.query);
      // data-label names a cell where a phone shows the rows as cards.
      return h("tr", { class: zero > 0 ? "row-zero" : null, "data-query": row.query },
        h("th", { scope: "row" }, pick),
        h("td", { class: "num", "data-label": "Searches" }, count(row.count)),
        h("td", { class: "num zero", "data-label": "Zero results" }, zero ? count(zero) : "–"),
        h("td", { class: "num col-wide", "data-label": "Clicks" }, count(row.clicks)),
        h("td", { class: "num", "data-label": "Click-through" }, percent(row.click_through, row.count)),
        h("td", { class: "col-wide when", "data-label": "Last seen" }, row.last_seen ? h("time", { datetime: row.last_seen }, formatWhen(row.last_seen)) : ""));
    }));
    show(queriesEmpty, rows.length ? "" : emptyText(view));
  }

  function emptyText(view) {
    switch (view) {
      case "zero_results": return "No search found nothing in this period.";
      case "relaxed": return "No search was only partly matched in this period.";
      case "no_clicks": return "Every search that found something had a click in this period.";
      default: return "No searches in this period yet.";
    }
  }

  function markSelected() {
    for (const b of queriesBody.querySelectorAll(".query-pick")) {
      b.setAttribute("aria-pressed", String(b.dataset.query === selected));
    }
  }

  // ---- What a visitor saw ---------------------------------------------------

  let inspectSeq = 0;
  let lastTotal = null; // the inspected query's total, for the save message

  // inspect shows the first page of results for q as a visitor gets it now;
  // analytics=false keeps the editor's own look out of the counts.
  async function inspect(q, { from } = {}) {
    const seq = ++inspectSeq;
    selected = q;
    markSelected();
    inspectHeading.textContent = `What a visitor sees for “${q}”`;
    addFromQuery.hidden = false;
    addFromQuery.textContent = `Add synonym for “${q}”`;
    results.setAttribute("aria-busy", "true");
    delete document.body.dataset.inspected;
    let body;
    try {
      body = await api("GET", `/v1/search?${afterWrites(new URLSearchParams({ q, analytics: "false" }))}`);
    } catch (err) {
      if (seq !== inspectSeq) return null;
      results.removeAttribute("aria-busy");
      results.replaceChildren();
      inspectStats.textContent = "";
      show(inspectError, errorText(err));
      document.body.dataset.inspected = q;
      return null;
    }
    if (seq !== inspectSeq) return null;
    results.removeAttribute("aria-busy");
    show(inspectError, "");
    const hits = Array.isArray(body.hits) ? body.hits : [];
    const total = Number(body.total) || 0;
    lastTotal = total;
    addFromQuery.classList.toggle("btn-primary", total === 0);
    const parts = [total === 0
      ? ["Nothing found for ", h("strong", null, `“${q}”`), "."]
      : [h("strong", null, plural(total, "result", "results")), ` for “${q}”`, total > hits.length ? `; the first ${hits.length} shown.` : "."]];
    if (body.relaxed && Array.isArray(body.relaxed.dropped) && body.relaxed.dropped.length) {
      parts.push(` Partly matched: ${plural(body.relaxed.all_words, "result matches", "results match")} every word.`);
    }
    if (body.did_you_mean) parts.push(` The search page offers “${body.did_you_mean}” instead.`);
    inspectStats.replaceChildren(...parts.flat());
    results.replaceChildren(...hits.map(renderHit));
    document.body.dataset.inspected = q;
    if (from === "list") inspectHeading.focus({ preventScroll: false });
    return body;
  }

  function renderHit(hit) {
    const hl = hit.highlights || {};
    const title = hl.title && hl.title.length ? highlighted(hl.title[0]) : String(hit.title || hit.id || "");
    let desc = null;
    if (hl.description && hl.description.length) {
      desc = h("p", { class: "hit-desc" }, hl.description.map((f, i) => [i ? " … " : "", highlighted(f)]));
    } else if (hit.description) {
      desc = h("p", { class: "hit-desc clamp" }, String(hit.description));
    }
    return h("li", { class: "hit" },
      h("article", null,
        h("h3", { class: "hit-title" }, title),
        h("p", { class: "hit-meta" },
          h("span", { class: "kind" }, hit.kind ? String(hit.kind) : ""),
          h("span", { class: "sep", "aria-hidden": "true" }, "·"),
          h("span", { class: "hit-id" }, String(hit.id || ""))),
        desc));
  }

  // ---- Synonym form ----------------------------------------------------------

  let sets = []; // the editors' sets as last listed
  let formQuery = ""; // the query the form was filled from, re-run on save

  const oneWay = () => document.querySelector('input[name="syn-kind"]:checked')?.value === "oneway";

  // terms splits the field on commas (or new lines, when pasted); a term
  // may hold spaces ("platform work").
  function terms(text) {
    return text.split(/[,\n]/).map((t) => t.replace(/\s+/g, " ").trim()).filter((t) => t !== "");
  }

  // slug derives a set's id from its root or first term: lower case,
  // accents dropped, anything but letters and digits a single hyphen, at
  // most MAX_ID long (the API's bound). A term with no Latin letter or digit
  // gets an id from a hash of its text.
  function slug(term) {
    let s = term.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    if (s.length > MAX_ID) {
      // Cut at a word where there is one, so the id stays readable.
      s = s.slice(0, MAX_ID + 1);
      const cut = s.lastIndexOf("-");
      s = cut > 0 ? s.slice(0, cut) : s.slice(0, MAX_ID);
    }
    if (s) return s;
    let hash = 0x811c9dc5;
    for (const c of term) {
      hash ^= c.codePointAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return "set-" + hash.toString(16).padStart(8, "0");
  }

  function syncForm() {
    const one = oneWay();
    synRootLabel.textContent = one ? "Root (what visitors type)" : "First term";
    synTermsLabel.textContent = one ? "Synonyms (also searched for the root)" : "Other terms (all mean the same)";
    const root = synRoot.value.trim();
    if (!root) {
      synID.textContent = "The set's id is made from the first term.";
      return;
    }
    const id = slug(root);
    const existing = sets.find((s) => s.id === id);
    synID.textContent = existing
      ? `Saved as “${id}”, replacing the set of that id (${describe(existing)}).`
      : `Saved as “${id}”.`;
  }
  synRoot.addEventListener("input", syncForm);
  for (const el of document.querySelectorAll('input[name="syn-kind"]')) el.addEventListener("change", syncForm);
  // clearForm empties the terms for the next set; the kind stays, as an
  // editor adding several sets usually adds one kind.
  function clearForm() {
    formQuery = "";
    delete synForm.dataset.filledFrom;
    synRoot.value = "";
    synTerms.value = "";
    show(synError, "");
    for (const el of [synRoot, synTerms]) el.removeAttribute("aria-invalid");
    syncForm();
  }
  synForm.addEventListener("reset", (ev) => {
    ev.preventDefault();
    clearForm();
    synStatus.textContent = "";
    synRoot.focus();
  });

  // prefill starts a set from a query: the query is the first term (or the
  // root), and the cursor waits in the field for the other terms.
  function prefill(q) {
    formQuery = q;
    synRoot.value = q;
    if (!synTerms.value.trim() || synForm.dataset.filledFrom !== q) synTerms.value = "";
    synForm.dataset.filledFrom = q;
    show(synError, "");
    synStatus.textContent = "";
    syncForm();
    synTerms.focus();
  }
  addFromQuery.addEventListener("click", () => { if (selected !== null) prefill(selected); });

  function invalid(field, message) {
    field.setAttribute("aria-invalid", "true");
    show(synError, message);
    field.focus();
  }

  synForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const el of [synRoot, synTerms]) el.removeAttribute("aria-invalid");
    show(synError, "");
    synStatus.textContent = "";
    const one = oneWay();
    const root = synRoot.value.replace(/\s+/g, " ").trim();
    const others = terms(synTerms.value);
    if (!root) return invalid(synRoot, one ? "Type the root: the word visitors search for." : "Type the first term.");
    if (!others.length) return invalid(synTerms, one ? "Type at least one synonym for the root." : "Type at least one other term.");
    const id = slug(root);
    const body = one ? { root, synonyms: others } : { synonyms: [root, ...others] };
    const save = $("syn-save");
    save.disabled = true;
    document.body.dataset.saving = "true";
    try {
      const stored = await api("PUT", `/v1/synonyms/${encodeURIComponent(id)}`, body);
      const q = formQuery || root;
      clearForm();
      synStatus.textContent = `Saved “${stored.id || id}”: ${describe(stored)}.`;
      await loadSynonyms();
      // Show at once what the next visitor gets for the query.
      const answer = await inspect(q);
      if (answer) synStatus.textContent += ` “${q}” now finds ${plural(answer.total, "result", "results")}.`;
    } catch (err) {
      if (err instanceof APIError && err.status === 401) return;
      show(synError, errorText(err));
      // A message naming a term points at the field that holds it.
      synTerms.setAttribute("aria-invalid", "true");
    } finally {
      save.disabled = false;
      delete document.body.dataset.saving;
    }
  });

  // ---- Synonym list -----------------------------------------------------------

  function describe(set) {
    const list = Array.isArray(set.synonyms) ? set.synonyms : [];
    return set.root ? `${set.root} → ${list.join(", ")}` : list.join(" = ");
  }

  let synonymsSeq = 0;

  async function loadSynonyms() {
    const seq = ++synonymsSeq;
    let body;
    try {
      const params = afterWrites(new URLSearchParams()).toString();
      body = await api("GET", "/v1/synonyms" + (params ? "?" + params : ""));
    } catch (err) {
      if (seq !== synonymsSeq || !key) return;
      show(synListError, errorText(err));
      return;
    }
    if (seq !== synonymsSeq) return;
    show(synListError, "");
    sets = Array.isArray(body.synonyms) ? body.synonyms : [];
    renderSynonyms();
    syncForm();
    document.body.dataset.synonyms = String(sets.length);
  }

  function renderSynonyms() {
    synList.replaceChildren(...sets.map(synonymItem));
    synEmpty.hidden = sets.length > 0;
    synCount.hidden = sets.length === 0;
    synCount.textContent = String(sets.length);
  }

  function synonymItem(set) {
    const actions = h("div", { class: "syn-actions" });
    const item = h("li", { class: "syn-item", "data-id": set.id },
      h("div", { class: "syn-text" },
        h("span", { class: "syn-id" }, set.id),
        h("span", { class: "syn-terms" }, describe(set)),
        set.root ? h("span", { class: "syn-kind" }, "one-way") : null),
      actions);
    const idle = () => {
      actions.replaceChildren(h("button", {
        type: "button", class: "btn btn-ghost syn-delete", "aria-label": `Delete synonym set ${set.id}`,
        onclick: () => confirming(),
      }, "Delete"));
    };
    // Deleting asks once, in place: both answers are buttons, focus starts
    // on Cancel so a second Enter does no harm, Tab reaches Delete, and
    // Escape steps back.
    const stepBack = () => {
      idle();
      actions.querySelector("button").focus();
    };
    const confirming = () => {
      const cancel = h("button", { type: "button", class: "btn btn-ghost syn-cancel", onclick: stepBack }, "Cancel");
      const yes = h("button", {
        type: "button", class: "btn btn-danger syn-confirm", "aria-label": `Yes, delete synonym set ${set.id}`,
        onclick: () => remove(set, actions),
      }, "Delete");
      actions.replaceChildren(h("span", { class: "syn-question" }, `Delete “${set.id}”?`), cancel, yes);
      cancel.focus();
    };
    actions.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape" || !actions.querySelector(".syn-cancel:not(:disabled)")) return;
      ev.preventDefault();
      stepBack();
    });
    idle();
    return item;
  }

  async function remove(set, actions) {
    for (const b of actions.querySelectorAll("button")) b.disabled = true;
    try {
      await api("DELETE", `/v1/synonyms/${encodeURIComponent(set.id)}`);
    } catch (err) {
      if (err instanceof APIError && err.status === 401) return;
      for (const b of actions.querySelectorAll("button")) b.disabled = false;
      show(synListError, `Could not delete “${set.id}”: ${errorText(err)}`);
      return;
    }
    show(synListError, "");
    synListStatus.textContent = `Deleted “${set.id}”.`;
    // The list's heading takes focus, since the button that had it is gone.
    $("syn-list-heading").setAttribute("tabindex", "-1");
    $("syn-list-heading").focus();
    await loadSynonyms();
    // The query on show may have depended on the set; show it as it is now.
    if (selected !== null) inspect(selected);
  }

  // ---- Start -------------------------------------------------------------------

  syncChoice();
  syncForm();
  if (key) start();
  else askForKey("");
})();
