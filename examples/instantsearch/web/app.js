// An InstantSearch page over searchd: the widgets and the Algolia client
// come from npm as they are; only the host is searchd's. Templates are
// functions (html is InstantSearch's tagged template, no eval), so the
// page runs under a Content-Security-Policy without 'unsafe-eval'.
(() => {
  "use strict";
  const searchd = new URL(document.querySelector('meta[name="searchd"]').content);
  const { liteClient } = window["algoliasearch/lite"];
  const { searchBox, stats, refinementList, sortBy, hits, pagination, clearRefinements, configure } = instantsearch.widgets;

  const searchClient = liteClient("labor-search", "public", {
    // The application id and key are Algolia's; searchd ignores them
    // (searches are public).
    hosts: [{ url: searchd.host + searchd.pathname.replace(/\/$/, ""), protocol: searchd.protocol.replace(":", ""), accept: "read" }],
    // searchd's own deadline is 2 s; the client's default read timeout is
    // the same, which would abandon an answer on its way.
    timeouts: { connect: 2000, read: 5000, write: 5000 },
  });

  const search = instantsearch({ indexName: "projects", searchClient, insights: false });

  const dates = (hit) => [hit.start, hit.end].filter(Boolean).join(" – ");

  // did_you_mean and relaxed are searchd's own fields of a result;
  // InstantSearch passes them through on results.
  const notice = {
    $$type: "labor-search.notice",
    init() {},
    render({ results, helper }) {
      const el = document.getElementById("notice");
      el.replaceChildren();
      if (!results) return;
      if (results.did_you_mean) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = results.did_you_mean;
        button.addEventListener("click", () => helper.setQuery(results.did_you_mean).search());
        el.append("Did you mean ", button, "?");
      } else if (results.relaxed) {
        el.textContent = `Few projects match every word; also showing those matching “${results.relaxed.kept}”.`;
      }
    },
  };

  search.addWidgets([
    configure({ hitsPerPage: 5, attributesToSnippet: ["description:30"], snippetEllipsisText: "…" }),
    searchBox({ container: "#searchbox", placeholder: "Search projects: mining, migrant workers, Honduras…", showLoadingIndicator: false }),
    stats({
      container: "#stats",
      templates: {
        text: (data, { html }) => html`<span class="count">${data.nbHits}</span> ${data.nbHits === 1 ? "project" : "projects"} found in ${data.processingTimeMS} ms`,
      },
    }),
    refinementList({
      container: "#country",
      attribute: "country",
      searchable: true,
      searchablePlaceholder: "Find a country…",
      limit: 8,
      showMore: true,
      showMoreLimit: 60,
    }),
    refinementList({ container: "#sector", attribute: "sector", limit: 8, showMore: true, showMoreLimit: 40 }),
    clearRefinements({ container: "#clear", templates: { resetLabel: (_, { html }) => html`Clear filters` } }),
    sortBy({
      container: "#sort",
      items: [
        { label: "Most relevant", value: "projects" },
        { label: "Newest first", value: "projects_start_desc" },
        { label: "Oldest first", value: "projects_start_asc" },
      ],
    }),
    hits({
      container: "#hits",
      templates: {
        item: (hit, { html, components }) => html`
          <article class="hit" data-id=${hit.objectID}>
            <h3 class="hit-title">${components.Highlight({ attribute: "title", hit })}</h3>
            <p class="meta">
              ${hit.status ? html`<span class="status">${hit.status}</span>` : ""}
              ${dates(hit) ? html`<span class="dates">${dates(hit)}</span>` : ""}
              ${hit.countries.length ? html`<span class="countries">${hit.countries.slice(0, 4).join(", ")}${hit.countries.length > 4 ? ` +${hit.countries.length - 4}` : ""}</span>` : ""}
            </p>
            <p class="hit-snippet">${components.Snippet({ attribute: "description", hit })}</p>
          </article>`,
        empty: (results, { html }) => html`<p>No project matches “${results.query}”.</p>`,
      },
    }),
    pagination({ container: "#pagination", padding: 2 }),
    notice,
  ]);

  search.on("error", ({ error }) => {
    const el = document.getElementById("error");
    el.textContent = `The search failed: ${error.message}`;
    el.hidden = false;
  });
  search.on("render", () => {
    document.getElementById("error").hidden = search.status !== "error";
    // For tests and monitoring: the page shows the answer to the current
    // state once InstantSearch is idle.
    document.body.dataset.status = search.status;
  });
  search.start();
})();
