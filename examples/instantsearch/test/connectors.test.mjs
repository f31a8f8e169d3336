// InstantSearch's connectors (its headless widgets, over the real
// algoliasearch-helper) and Algolia's lite client for Node, from the
// lockfile, against a live searchd: every render state is compared with
// what /v1/search answers for the same question.
//
//   SEARCHD_URL=http://127.0.0.1:8080 node --test test/
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import instantsearch from "instantsearch.js/es/index.js";
import {
  connectConfigure,
  connectHits,
  connectPagination,
  connectRefinementList,
  connectSearchBox,
  connectSortBy,
  connectStats,
} from "instantsearch.js/es/connectors/index.js";
import { liteClient } from "algoliasearch/lite";

const base = process.env.SEARCHD_URL;
if (!base) {
  throw new Error("set SEARCHD_URL to a running searchd, e.g. http://127.0.0.1:8080 (.ci/checks.d/45-clients.sh starts one)");
}
const url = new URL(base);
const perPage = 5;
const facetSize = 60; // the country list's showMoreLimit, which InstantSearch sends as maxValuesPerFacet

async function v1(query) {
  const res = await fetch(`${base}/v1/search?per_page=${perPage}&facets=country,sector&facet_size=${facetSize}&${query}`);
  assert.equal(res.status, 200, `GET /v1/search?${query}`);
  return res.json();
}

const ids = (hits) => hits.map((h) => h.objectID ?? h.id);
const counts = (values) => Object.fromEntries(values.map((v) => [v.value, v.count]));

// The latest render state of each connector, and waiters for a state.
const state = {};
const waiters = [];
function capture(name) {
  return (renderState) => {
    state[name] = renderState;
    for (const w of [...waiters]) {
      if (w.ok()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
}

// until resolves once ok() holds for the render states (after InstantSearch
// has answered), or fails after five seconds with what was last rendered.
function until(what, ok) {
  return new Promise((resolve, reject) => {
    const check = () => search.status === "idle" && ok();
    if (check()) return resolve();
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      reject(new Error(`${what}: not rendered in 5 s; hits ${JSON.stringify(state.hits && ids(state.hits.items))}, nbHits ${state.stats?.nbHits}`));
    }, 5000);
    const w = { ok: check, resolve: () => { clearTimeout(timer); resolve(); } };
    waiters.push(w);
  });
}

let search;

// same is a non-throwing deep equality, for until().
const same = (a, b) => {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
};

before(async () => {
  const searchClient = liteClient("labor-search", "public", {
    hosts: [{ url: url.host + url.pathname.replace(/\/$/, ""), protocol: url.protocol.replace(":", ""), accept: "read" }],
    timeouts: { connect: 2000, read: 5000, write: 5000 },
  });
  search = instantsearch({ indexName: "projects", searchClient, insights: false });
  search.addWidgets([
    connectConfigure(() => {})({ searchParameters: { hitsPerPage: perPage } }),
    connectSearchBox(capture("searchBox"))({}),
    connectHits(capture("hits"))({}),
    connectStats(capture("stats"))({}),
    connectRefinementList(capture("country"))({ attribute: "country", limit: 8, showMore: true, showMoreLimit: facetSize }),
    connectRefinementList(capture("sector"))({ attribute: "sector", limit: 8, showMore: true, showMoreLimit: facetSize }),
    connectPagination(capture("pagination"))({}),
    connectSortBy(capture("sortBy"))({
      items: [
        { label: "Most relevant", value: "projects" },
        { label: "Newest first", value: "projects_start_desc" },
      ],
    }),
  ]);
  search.on("error", ({ error }) => console.error("InstantSearch error:", error));
  search.start();
  const all = await v1("");
  await until("the first page of everything", () => state.hits && same(ids(state.hits.items), ids(all.hits)));
});

after(() => search.dispose());

test("the hits of a query are /v1's, in its order, with its total", async () => {
  const want = await v1("q=mining");
  state.searchBox.refine("mining");
  await until("hits for mining", () => same(ids(state.hits.items), ids(want.hits)));
  assert.equal(state.stats.nbHits, want.total);
  assert.equal(state.stats.query, "mining");
  const wantCountries = counts(want.facets.country);
  for (const item of state.country.items) {
    assert.equal(item.count, wantCountries[item.value], `country ${item.value}`);
  }
});

test("highlights arrive escaped once: <mark> around the words, no entity escaped twice", () => {
  const values = state.hits.items.flatMap((h) => [h._highlightResult.title.value, h._highlightResult.description.value, h._snippetResult.description.value]);
  assert.ok(values.some((v) => /<mark>mining<\/mark>/i.test(v)), `no <mark>mining</mark> in ${values}`);
  assert.ok(values.some((v) => v.includes("&#39;")), "no apostrophe among the hits: the escaping is not tested");
  for (const v of values) {
    assert.doesNotMatch(v, /&amp;(#39|amp|lt|gt|quot);|__ais-highlight__/, v);
  }
});

test("ticking a country: the total is /v1's, every other country keeps its disjunctive count", async () => {
  const want = await v1("q=mining&country=Peru");
  state.country.refine("Peru");
  await until("mining in Peru", () => state.stats.nbHits === want.total && same(ids(state.hits.items), ids(want.hits)));
  const byValue = Object.fromEntries(state.country.items.map((i) => [i.value, i]));
  assert.equal(byValue.Peru?.isRefined, true, "Peru is not shown ticked");
  const wantCountries = counts(want.facets.country);
  assert.ok(state.country.items.length > 1, "only the ticked country is listed");
  for (const item of state.country.items) {
    assert.equal(item.count, wantCountries[item.value], `country ${item.value} with Peru ticked`);
  }
  const wantSectors = counts(want.facets.sector);
  for (const item of state.sector.items) {
    assert.equal(item.count, wantSectors[item.value], `sector ${item.value} with Peru ticked`);
  }
});

test("the searchable country list offers a country for a typed prefix", async () => {
  const want = counts((await v1("q=mining")).facets.country);
  state.country.searchForItems("bra");
  await until("Brazil offered for bra", () => state.country.isFromSearch && state.country.items.length > 0);
  assert.deepEqual(state.country.items.map((i) => [i.value, i.count, i.highlighted]), [["Brazil", want.Brazil, "<mark>Bra</mark>zil"]]);
  state.country.searchForItems("");
  await until("the country list back", () => !state.country.isFromSearch);
});

test("page 2 is /v1's second page", async () => {
  state.country.refine("Peru"); // untick
  state.searchBox.refine("workers");
  const first = await v1("q=workers");
  await until("hits for workers", () => same(ids(state.hits.items), ids(first.hits)));
  assert.equal(state.pagination.nbPages, Math.ceil(first.total / perPage));
  const second = await v1("q=workers&page=2");
  assert.ok(second.hits.length > 0, "workers has no second page");
  state.pagination.refine(1);
  await until("page 2", () => state.pagination.currentRefinement === 1 && same(ids(state.hits.items), ids(second.hits)));
});

test("the newest-first replica is /v1's -start sort", async () => {
  const want = await v1("q=workers&sort=-start");
  state.sortBy.refine("projects_start_desc");
  await until("workers newest first", () => state.pagination.currentRefinement === 0 && same(ids(state.hits.items), ids(want.hits)));
});
