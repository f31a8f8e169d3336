// The search page: one small script, no build step, no dependencies. It
// calls the service's own /v1/search and /v1/suggest and keeps the whole
// search in the URL so a search can be shared, bookmarked and restored with
// Back and Forward.
//
// Query analytics: each tab makes a random session token (kept in
// sessionStorage, so it lasts as long as the tab) and sends it with every
// search, so the service counts a query typed letter by letter once; a
// click on a hit sends a beacon naming the search's query_id, the hit and
// its rank. Nothing else about the visitor is sent.
//
// Safety: every piece of text from the API goes into the page as text
// (textContent, append(string)). The only markup taken from the API is the
// <mark> tags of highlight fragments, and those are split out by exact match,
// never parsed as HTML, so a document whose title holds a script tag or an
// img onerror shows those characters and runs nothing. The page sets no inline styles and has no inline handlers, so the
// server's Content-Security-Policy (default-src 'self') holds.
"use strict";

(() => {
  const FILTERS = ["country", "sector", "area", "status", "region", "partner", "kind"];
  const FACETS = [
    { field: "status", label: "Status" },
    { field: "country", label: "Country" },
    { field: "sector", label: "Sector" },
    { field: "area", label: "Area of work" },
  ];
  const FILTER_LABELS = {
    country: "Country", sector: "Sector", area: "Area", status: "Status",
    region: "Region", partner: "Partner", kind: "Kind",
  };
  const STATUS_LABELS = { active: "Active", ended: "Ended", upcoming: "Upcoming" };
  const FACET_COLLAPSED = 8; // values shown before "Show more"
  const CHIPS_SHOWN = 6; // countries or sectors shown on a result before "+N more"
  const DEBOUNCE_MS = 120;
  const SUGGEST_LIMIT = 8;
  const MAX_DEPTH = 10000; // the API refuses page*per_page beyond this

  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const input = $("q");
  const listbox = $("suggestions");
  const sortSelect = $("sort");
  const fromInput = $("from");
  const toInput = $("to");
  const facetsBox = $("facets");
  const results = $("results");
  const stats = $("stats");
  const notice = $("notice");
  const refinements = $("refinements");
  const errorBox = $("error");
  const empty = $("empty");
  const pagination = $("pagination");
  const sidebar = document.querySelector(".sidebar");
  const filtersToggle = $("filters-toggle");
  const filtersCount = $("filters-count");
  const apiLink = $("api-link");
  const apiCall = $("api-call");

  // ---- DOM helpers ---------------------------------------------------------

  const { h, highlighted } = window.laborDOM;

  // Icons are drawn as SVG elements, not images, so the page loads nothing
  // but its own files.
  const ICONS = {
    search: ["M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14z", "M20 20l-4-4"],
    doc: ["M7 3h7l5 5v13H7z", "M14 3v5h5", "M10 13h6", "M10 17h6"],
  };
  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    for (const d of ICONS[name]) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      svg.append(path);
    }
    return svg;
  }

  const dateFormat = new Intl.DateTimeFormat("en", {
    year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });
  function formatDate(day) {
    const t = Date.parse(day + "T00:00:00Z");
    return Number.isNaN(t) ? day : dateFormat.format(t);
  }
  const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

  // ---- State <-> URL -------------------------------------------------------

  function emptyState() {
    const filters = {};
    for (const f of FILTERS) filters[f] = [];
    return { q: "", filters, from: "", to: "", sort: "relevance", page: 1, perPage: 0 };
  }

  function stateFromURL(search) {
    const p = new URLSearchParams(search);
    const s = emptyState();
    s.q = p.get("q") || "";
    for (const f of FILTERS) s.filters[f] = p.getAll(f).filter((v) => v !== "");
    s.from = p.get("from") || "";
    s.to = p.get("to") || "";
    s.sort = p.get("sort") || "relevance";
    s.page = Math.max(1, parseInt(p.get("page"), 10) || 1);
    s.perPage = parseInt(p.get("per_page"), 10) || 0;
    return s;
  }

  // params is the query string for both the page URL and the API call: the
  // page's URL parameters are the API's, so a shared link reads like a call.
  function params(s) {
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    for (const f of FILTERS) for (const v of s.filters[f]) p.append(f, v);
    if (s.from) p.set("from", s.from);
    if (s.to) p.set("to", s.to);
    if (s.sort && s.sort !== "relevance") p.set("sort", s.sort);
    if (s.page > 1) p.set("page", String(s.page));
    if (s.perPage) p.set("per_page", String(s.perPage));
    return p.toString();
  }
  const pageURL = (s) => { const q = params(s); return q ? "/?" + q : "/"; };

  function activeFilterCount(s) {
    let n = 0;
    for (const f of FILTERS) n += s.filters[f].length;
    return n + (s.from ? 1 : 0) + (s.to ? 1 : 0);
  }

  let state = stateFromURL(location.search);

  // ---- Query analytics -----------------------------------------------------

  const SESSION_KEY = "labor-search-session";
  // session is this tab's token: 32 hex digits from the browser's random
  // source. Without sessionStorage (a locked-down browser) it lasts as long
  // as the page.
  const session = (() => {
    try {
      const kept = sessionStorage.getItem(SESSION_KEY);
      if (kept && /^[0-9a-f]{32}$/.test(kept)) return kept;
    } catch { /* no storage: a token for this page only */ }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try { sessionStorage.setItem(SESSION_KEY, token); } catch { /* see above */ }
    return token;
  })();

  // shownQuery is the counted search whose results are on screen: later
  // pages of the same query are not counted again, so they keep page 1's id.
  let shownQuery = { q: null, id: "" };

  function noteQueryID(body) {
    if (typeof body.query_id === "string" && body.query_id) {
      shownQuery = { q: state.q, id: body.query_id };
    } else if (shownQuery.q !== state.q) {
      shownQuery = { q: null, id: "" };
    }
  }

  // sendClick tells the service a visitor opened a hit. A beacon outlives
  // the page it leaves, and its answer is not needed.
  function sendClick(hit, position) {
    if (!shownQuery.id || !navigator.sendBeacon) return;
    navigator.sendBeacon("/v1/events", JSON.stringify({
      type: "click", query_id: shownQuery.id, document_id: hit.id, position,
    }));
  }

  // History: a filter, sort, page or date change and Enter each push one
  // entry. Typing updates results as the visitor types but must not leave one
  // entry per keystroke, so the first debounced search of a burst of typing
  // pushes and the rest of the burst replaces that entry; Enter, choosing a
  // suggestion or any other change ends the burst. Back therefore returns to
  // the search before the typing, not to "mig" then "mi".
  let typingBurst = false;

  function commit(mode) {
    const url = pageURL(state);
    if (url === location.pathname + location.search) return;
    if (mode === "replace") history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }

  function syncControls() {
    if (input.value !== state.q) input.value = state.q;
    sortSelect.value = state.sort;
    if (sortSelect.value !== state.sort) sortSelect.value = "relevance";
    fromInput.value = state.from;
    toInput.value = state.to;
    toInput.min = state.from;
    fromInput.max = state.to;
    document.title = (state.q ? `“${state.q}” – ` : "") + "Labor rights project search";
    const n = activeFilterCount(state);
    filtersCount.hidden = n === 0;
    filtersCount.textContent = String(n);
  }

  // change applies an edit to the state and runs the search with a new
  // history entry (or a replaced one while typing).
  function change(edit, { mode = "push", resetPage = true } = {}) {
    edit(state);
    if (resetPage) state.page = 1;
    if (mode === "push") typingBurst = false;
    commit(mode);
    syncControls();
    runSearch();
  }

  // ---- Search --------------------------------------------------------------

  let searchSeq = 0;
  let searchAbort = null;
  let busyTimer = 0;

  async function runSearch() {
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    const api = "/v1/search" + (params(state) ? "?" + params(state) : "");
    apiLink.href = api;
    apiCall.textContent = "GET " + api;
    clearTimeout(busyTimer);
    // Only show "busy" when an answer is slow, so fast answers do not flicker.
    busyTimer = setTimeout(() => document.body.classList.add("busy"), 150);
    results.setAttribute("aria-busy", "true");
    try {
      // The session goes to the service only, not into the API link shown.
      const counted = api + (api.includes("?") ? "&" : "?") + "session=" + session;
      const res = await fetch(counted, { signal: searchAbort.signal, headers: { Accept: "application/json" } });
      const body = await readJSON(res);
      if (seq !== searchSeq) return;
      // Which search the page shows, for scripts and tests that drive it.
      document.body.dataset.shown = pageURL(state);
      if (!res.ok) {
        showError(apiMessage(res, body));
      } else if (!body || !Array.isArray(body.hits)) {
        showError("The search service sent an answer this page does not understand.");
      } else {
        noteQueryID(body);
        render(body);
      }
    } catch (err) {
      if (err.name === "AbortError" || seq !== searchSeq) return;
      document.body.dataset.shown = pageURL(state);
      showError("Cannot reach the search service. Check your connection or that the service is running, then retry.");
    } finally {
      if (seq === searchSeq) {
        clearTimeout(busyTimer);
        document.body.classList.remove("busy");
        results.removeAttribute("aria-busy");
      }
    }
  }

  async function readJSON(res) {
    try { return await res.json(); } catch { return null; }
  }

  function apiMessage(res, body) {
    const e = body && body.error;
    if (e && typeof e.message === "string" && e.message) return e.message;
    return `The search service answered HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}.`;
  }

  function showError(message) {
    errorBox.replaceChildren(
      h("p", { class: "error-title" }, "The search could not be run"),
      h("p", { class: "error-message", id: "error-message" }, message),
      h("button", { type: "button", class: "btn", onclick: () => runSearch() }, "Try again"),
    );
    errorBox.hidden = false;
    results.replaceChildren();
    empty.hidden = true;
    pagination.hidden = true;
    notice.replaceChildren();
    stats.textContent = "";
  }

  function render(res) {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    renderNotices(res);
    renderRefinements();
    renderFacets(res.facets || {});
    renderStats(res);
    const first = ((Number(res.page) || 1) - 1) * (Number(res.per_page) || 10);
    results.replaceChildren(...res.hits.map((hit, i) => renderHit(hit, first + i + 1)));
    renderEmpty(res);
    renderPagination(res);
  }

  function renderStats(res) {
    const took = typeof res.took_ms === "number" ? ` in ${res.took_ms < 10 ? res.took_ms.toFixed(1) : Math.round(res.took_ms)} ms` : "";
    const pages = pageCount(res);
    const where = pages > 1 ? `Page ${res.page} of ${pages} · ` : "";
    stats.replaceChildren(
      where,
      h("strong", { id: "total" }, plural(Number(res.total) || 0, "result", "results")),
      took,
    );
  }

  function renderNotices(res) {
    const parts = [];
    if (res.did_you_mean) {
      const next = { ...state, q: res.did_you_mean, page: 1 };
      parts.push(h("p", { class: "notice notice-dym", id: "did-you-mean" },
        "Did you mean ",
        h("a", {
          href: pageURL(next),
          onclick: (ev) => follow(ev, () => change((s) => { s.q = res.did_you_mean; })),
        }, res.did_you_mean),
        "?"));
    }
    if (res.relaxed && Array.isArray(res.relaxed.dropped) && res.relaxed.dropped.length) {
      parts.push(h("p", { class: "notice notice-relaxed", id: "relaxed" }, ...relaxedText(res.relaxed)));
    }
    notice.replaceChildren(...parts);
  }

  // relaxedText says what a partial answer holds: how many hits match every
  // word, then which words the others match.
  function relaxedText(r) {
    const all = Number(r.all_words) || 0;
    const quote = (w) => h("strong", null, `“${w}”`);
    const out = [];
    if (all > 0) {
      out.push(`${plural(all, "result matches", "results match")} every word; then results matching `);
    } else {
      out.push("No result matches every word; showing results matching ");
    }
    if (r.kept) {
      out.push(quote(r.kept), ".");
    } else if (all > 0) {
      out.push("some of them.");
    } else {
      out.push("some of ");
      r.dropped.forEach((w, i) => {
        if (i > 0) out.push(i === r.dropped.length - 1 ? " and " : ", ");
        out.push(quote(w));
      });
      out.push(".");
    }
    return out;
  }

  // follow lets a link keep its browser meaning (new tab with Ctrl, Cmd,
  // Shift or the middle button) and otherwise handles it in the page.
  function follow(ev, action) {
    if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    action();
  }

  function renderRefinements() {
    const chips = [];
    for (const f of FILTERS) {
      for (const v of state.filters[f]) {
        const label = `${FILTER_LABELS[f]}: ${f === "status" ? STATUS_LABELS[v] || v : v}`;
        chips.push(h("button", {
          type: "button", class: "chip chip-remove", "aria-label": `Remove filter ${label}`,
          onclick: () => change((s) => { s.filters[f] = s.filters[f].filter((x) => x !== v); }),
        }, label, h("span", { class: "x", "aria-hidden": "true" }, "×")));
      }
    }
    for (const [key, label] of [["from", "From"], ["to", "To"]]) {
      if (!state[key]) continue;
      const text = `${label} ${formatDate(state[key])}`;
      chips.push(h("button", {
        type: "button", class: "chip chip-remove", "aria-label": `Remove filter ${text}`,
        onclick: () => change((s) => { s[key] = ""; }),
      }, text, h("span", { class: "x", "aria-hidden": "true" }, "×")));
    }
    if (chips.length) {
      chips.push(h("button", { type: "button", class: "btn-link", id: "clear-filters", onclick: clearFilters }, "Clear all filters"));
    }
    refinements.replaceChildren(...chips);
    refinements.hidden = chips.length === 0;
  }

  function clearFilters() {
    change((s) => {
      for (const f of FILTERS) s.filters[f] = [];
      s.from = "";
      s.to = "";
    });
  }

  const expanded = new Set(); // facets whose long list is open

  function renderFacets(facets) {
    // Re-rendering replaces the checkboxes; keep keyboard focus on the same
    // value so a keyboard user does not lose their place.
    const focused = document.activeElement && document.activeElement.dataset
      ? { field: document.activeElement.dataset.field, value: document.activeElement.dataset.value, more: document.activeElement.dataset.more }
      : {};
    const panels = [];
    for (const { field, label } of FACETS) {
      const values = (facets[field] || []).slice();
      const selected = state.filters[field];
      // A selected value the API did not list (say, from an edited URL)
      // still shows, so it can be unticked.
      for (const v of selected) {
        if (!values.some((x) => x.value === v)) values.push({ value: v, count: 0 });
      }
      if (!values.length) continue;
      const open = expanded.has(field);
      const shown = open ? values : values.filter((v, i) => i < FACET_COLLAPSED || selected.includes(v.value));
      const items = shown.map((v, i) => {
        const id = `f-${field}-${i}`;
        const isOn = selected.includes(v.value);
        // A value with no result under the other filters stays listed (the
        // API lists it) but dimmed, as ticking it alone would find nothing.
        return h("li", { class: `facet-item${isOn ? " on" : ""}${v.count === 0 && !isOn ? " zero" : ""}` },
          h("input", {
            type: "checkbox", id, checked: isOn, "data-field": field, "data-value": v.value,
            onchange: (ev) => change((s) => {
              const rest = s.filters[field].filter((x) => x !== v.value);
              s.filters[field] = ev.target.checked ? [...rest, v.value] : rest;
            }),
          }),
          h("label", { for: id },
            field === "status" ? h("span", { class: `dot dot-${v.value}`, "aria-hidden": "true" }) : null,
            h("span", { class: "facet-value" }, field === "status" ? STATUS_LABELS[v.value] || v.value : v.value),
            countBadge("facet-count", v.count)));
      });
      const more = values.length > FACET_COLLAPSED
        ? h("button", {
          type: "button", class: "btn-link facet-more", "aria-expanded": String(open), "data-more": field,
          onclick: () => { if (open) expanded.delete(field); else expanded.add(field); renderFacets(facets); },
        }, open ? "Show fewer" : `Show all ${values.length}`)
        : null;
      panels.push(h("fieldset", { class: "facet", id: `facet-${field}` },
        h("legend", null, label, selected.length ? h("span", { class: "count-pill" }, String(selected.length)) : null),
        h("ul", { class: "facet-list" }, items),
        more));
    }
    facetsBox.replaceChildren(...panels);
    if (focused.field) {
      const again = [...facetsBox.querySelectorAll("input[data-field]")]
        .find((el) => el.dataset.field === focused.field && el.dataset.value === focused.value);
      if (again) again.focus();
    } else if (focused.more) {
      const again = facetsBox.querySelector(`[data-more="${focused.more}"]`);
      if (again) again.focus();
    }
  }

  // countBadge shows a bare number and tells screen readers what it counts
  // (an aria-label on a plain span is not reliably read).
  function countBadge(cls, n) {
    return h("span", { class: cls }, n.toLocaleString("en"), h("span", { class: "visually-hidden" }, n === 1 ? " result" : " results"));
  }

  let hitSeq = 0;
  // renderHit draws one hit; position is its 1-based rank in the results.
  // Its title links to the document's record, the one page the service has
  // of it; opening it (click, middle click, keyboard) counts as a click.
  function renderHit(hit, position) {
    const id = `hit-${++hitSeq}`;
    const hl = hit.highlights || {};
    const title = hl.title && hl.title.length ? highlighted(hl.title[0]) : hit.title;
    let desc;
    if (hl.description && hl.description.length) {
      desc = h("p", { class: "hit-desc" }, hl.description.map((f, i) => [i ? " … " : "", highlighted(f)]));
    } else if (hit.description) {
      desc = h("p", { class: "hit-desc clamp" }, hit.description);
    }
    const status = hit.status
      ? h("span", { class: `badge badge-${hit.status}` }, STATUS_LABELS[hit.status] || hit.status)
      : null;
    const when = hit.start || hit.end
      ? h("span", { class: "hit-dates" },
        hit.start ? h("time", { datetime: hit.start }, formatDate(hit.start)) : "…",
        " – ",
        hit.end ? h("time", { datetime: hit.end }, formatDate(hit.end)) : "…")
      : null;
    const chipList = (values, cls, label) => {
      if (!values || !values.length) return null;
      const chip = (v) => h("li", { class: "chip" }, v);
      const list = h("ul", { class: `chips ${cls}`, "aria-label": label }, values.slice(0, CHIPS_SHOWN).map(chip));
      if (values.length > CHIPS_SHOWN) {
        // A profile can list dozens of countries; the rest are one click away.
        const rest = values.slice(CHIPS_SHOWN);
        const more = h("li", { class: "chip-more-item" }, h("button", {
          type: "button", class: "chip chip-more", "aria-label": `Show ${rest.length} more ${label.toLowerCase()}`,
          onclick: () => {
            more.replaceWith(...rest.map(chip));
            // The button is gone; keep focus in the list rather than lose it.
            list.setAttribute("tabindex", "-1");
            list.focus();
          },
        }, `+${rest.length} more`));
        list.append(more);
      }
      return list;
    };
    return h("li", { class: "hit" },
      h("article", { "aria-labelledby": id },
        h("div", { class: "hit-head" },
          h("h3", { class: "hit-title", id },
            h("a", {
              class: "hit-link", href: "/v1/documents/" + encodeURIComponent(hit.id),
              onclick: () => sendClick(hit, position),
              onauxclick: (ev) => { if (ev.button === 1) sendClick(hit, position); },
            }, title)),
          status),
        h("p", { class: "hit-meta" },
          h("span", { class: "kind" }, hit.kind ? hit.kind[0].toUpperCase() + hit.kind.slice(1) : ""),
          when ? [h("span", { class: "sep", "aria-hidden": "true" }, "·"), when] : null,
          hit.partners && hit.partners.length
            ? [h("span", { class: "sep", "aria-hidden": "true" }, "·"), h("span", { class: "partners" }, partnerText(hit.partners))]
            : null),
        desc,
        h("div", { class: "hit-tags" },
          chipList(hit.countries, "chips-country", "Countries"),
          chipList(hit.sectors, "chips-sector", "Sectors"))));
  }

  function partnerText(partners) {
    if (partners.length <= 2) return partners.join(" and ");
    return `${partners.slice(0, 2).join(", ")} and ${partners.length - 2} more`;
  }

  function renderEmpty(res) {
    if (res.hits.length) {
      empty.hidden = true;
      empty.replaceChildren();
      return;
    }
    const filtered = activeFilterCount(state) > 0;
    const parts = [];
    if (Number(res.total) > 0) {
      parts.push(h("p", { class: "empty-title" }, `Page ${state.page} is past the last page.`),
        h("a", { href: pageURL({ ...state, page: 1 }), onclick: (ev) => follow(ev, () => change(() => {})) }, "Go to the first page"));
    } else {
      parts.push(h("p", { class: "empty-title" },
        state.q ? ["Nothing matched ", h("strong", null, `“${state.q}”`)] : "Nothing matched",
        filtered ? " with these filters." : "."));
      if (filtered) {
        parts.push(h("p", null, "Try removing some filters."),
          h("button", { type: "button", class: "btn btn-primary", id: "empty-clear", onclick: clearFilters }, "Clear all filters"));
      } else {
        parts.push(h("p", null, "Check the spelling, try fewer or more general words, or browse everything."),
          h("a", { class: "btn", href: "/", onclick: (ev) => follow(ev, () => change((s) => { s.q = ""; })) }, "Browse all projects"));
      }
    }
    empty.replaceChildren(...parts);
    empty.hidden = false;
  }

  function pageCount(res) {
    const per = Number(res.per_page) || 10;
    return Math.max(1, Math.min(Math.ceil((Number(res.total) || 0) / per), Math.floor(MAX_DEPTH / per)));
  }

  function renderPagination(res) {
    const pages = pageCount(res);
    const cur = Number(res.page) || 1;
    if (pages <= 1 && cur <= 1) {
      pagination.hidden = true;
      pagination.replaceChildren();
      return;
    }
    const link = (p, text, label, extra) => h("a", {
      href: pageURL({ ...state, page: p }),
      class: `page-link ${extra || ""}`,
      "aria-label": label,
      onclick: (ev) => follow(ev, () => {
        change((s) => { s.page = p; }, { resetPage: false });
        $("results-heading").focus({ preventScroll: true });
        window.scrollTo({ top: 0 });
      }),
    }, text);
    const items = [];
    items.push(cur > 1 ? link(cur - 1, "← Previous", "Previous page", "page-prev") : h("span", { class: "page-link page-prev disabled", "aria-hidden": "true" }, "← Previous"));
    const nums = new Set([1, pages, cur - 1, cur, cur + 1].filter((p) => p >= 1 && p <= pages));
    let last = 0;
    for (const p of [...nums].sort((a, b) => a - b)) {
      if (p - last > 1) items.push(h("span", { class: "page-gap", "aria-hidden": "true" }, "…"));
      items.push(p === cur
        ? h("a", { href: pageURL({ ...state, page: p }), class: "page-link page-num current", "aria-current": "page", "aria-label": `Page ${p}` }, String(p))
        : link(p, String(p), `Page ${p}`, "page-num"));
      last = p;
    }
    items.push(cur < pages ? link(cur + 1, "Next →", "Next page", "page-next") : h("span", { class: "page-link page-next disabled", "aria-hidden": "true" }, "Next →"));
    pagination.replaceChildren(...items);
    pagination.hidden = false;
  }

  // ---- Suggestions (combobox) ----------------------------------------------

  let suggestSeq = 0;
  let suggestAbort = null;
  let options = []; // current suggestions
  let active = -1; // index of the highlighted option, -1 for none

  async function runSuggest(text) {
    const seq = ++suggestSeq;
    if (suggestAbort) suggestAbort.abort();
    if (!text.trim()) { closeList(); return; }
    suggestAbort = new AbortController();
    try {
      const res = await fetch(`/v1/suggest?${new URLSearchParams({ q: text, limit: String(SUGGEST_LIMIT) })}`,
        { signal: suggestAbort.signal, headers: { Accept: "application/json" } });
      const body = await readJSON(res);
      if (seq !== suggestSeq || document.activeElement !== input) return;
      // A failed suggestion is not worth an error message: the results
      // below show the search's own error if the service is in trouble.
      if (!res.ok || !body || !Array.isArray(body.suggestions)) { closeList(); return; }
      showList(body.suggestions);
    } catch (err) {
      if (err.name !== "AbortError" && seq === suggestSeq) closeList();
    }
  }

  function showList(suggestions) {
    options = suggestions;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (!options.length) { closeList(); return; }
    listbox.replaceChildren(...options.map((s, i) => h("li", {
      id: `sug-${i}`, role: "option", "aria-selected": "false",
      class: `suggestion suggestion-${s.kind === "title" ? "title" : "query"}`,
      onmousedown: (ev) => ev.preventDefault(), // keep focus in the input
      onclick: () => choose(i),
    },
    h("span", { class: "sug-icon", "aria-hidden": "true" }, icon(s.kind === "title" ? "doc" : "search")),
    h("span", { class: "sug-text" }, s.highlight ? highlighted(s.highlight) : s.text),
    s.kind === "title" ? h("span", { class: "sug-kind" }, "Project") : null,
    s.count ? countBadge("sug-count", s.count) : null)));
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function closeList() {
    listbox.hidden = true;
    listbox.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function setActive(i) {
    const items = listbox.querySelectorAll('[role="option"]');
    if (!items.length) return;
    // Positions run from -1 (the input itself) to the last option and wrap
    // around at both ends.
    const m = items.length + 1;
    active = (((i + 1) % m) + m) % m - 1;
    items.forEach((el, k) => el.setAttribute("aria-selected", String(k === active)));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(i) {
    const s = options[i];
    if (!s) return;
    input.value = s.text;
    clearTimeout(typingTimer);
    closeList();
    change((st) => { st.q = s.text; });
  }

  let typingTimer = 0;
  input.addEventListener("input", () => {
    clearTimeout(typingTimer);
    const text = input.value;
    typingTimer = setTimeout(() => {
      runSuggest(text);
      const mode = typingBurst ? "replace" : "push";
      change((s) => { s.q = text; }, { mode });
      typingBurst = true;
    }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (ev) => {
    const open = !listbox.hidden;
    switch (ev.key) {
      case "ArrowDown":
        ev.preventDefault();
        if (open) setActive(active + 1);
        else if (input.value.trim()) runSuggest(input.value);
        break;
      case "ArrowUp":
        if (open) { ev.preventDefault(); setActive(active - 1); }
        break;
      case "Enter":
        if (open && active >= 0) { ev.preventDefault(); choose(active); }
        break;
      case "Escape":
        if (open) { ev.preventDefault(); closeList(); }
        break;
      case "Tab":
        closeList();
        break;
    }
  });

  input.addEventListener("blur", closeList);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearTimeout(typingTimer);
    suggestSeq++; // an answer still on its way must not reopen the list
    if (suggestAbort) suggestAbort.abort();
    closeList();
    const text = input.value;
    if (text === state.q && typingBurst) {
      // The typed text already shows and has its history entry; Enter only
      // ends the burst so the next keystroke starts a new entry.
      typingBurst = false;
      return;
    }
    change((s) => { s.q = text; }, { mode: typingBurst ? "replace" : "push" });
    typingBurst = false;
  });

  // ---- Other controls ------------------------------------------------------

  sortSelect.addEventListener("change", () => change((s) => { s.sort = sortSelect.value; }));
  fromInput.addEventListener("change", () => change((s) => { s.from = fromInput.value; }));
  toInput.addEventListener("change", () => change((s) => { s.to = toInput.value; }));

  // On a phone the filters sit behind a button above the results.
  function showFilters(open) {
    sidebar.classList.toggle("open", open);
    filtersToggle.setAttribute("aria-expanded", String(open));
    filtersToggle.firstChild.textContent = open ? "Hide filters " : "Show filters ";
  }
  filtersToggle.addEventListener("click", () => showFilters(!sidebar.classList.contains("open")));
  $("filters-done").addEventListener("click", () => {
    showFilters(false);
    filtersToggle.focus({ preventScroll: true });
    $("stats").scrollIntoView({ block: "start" });
  });

  // "/" focuses the search box from anywhere but a form field.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    ev.preventDefault();
    input.focus();
    input.select();
  });

  window.addEventListener("popstate", () => {
    clearTimeout(typingTimer);
    typingBurst = false;
    closeList();
    state = stateFromURL(location.search);
    syncControls();
    runSearch();
  });

  syncControls();
  runSearch();
})();
