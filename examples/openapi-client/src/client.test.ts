// The typed client against a live searchd started with an API key:
//   SEARCHD_URL=http://127.0.0.1:8080 SEARCHD_API_KEY=... npm test
import { test } from "node:test";
import assert from "node:assert/strict";
import { searchd, SearchdError, type Schemas } from "./client.js";

const base = process.env["SEARCHD_URL"];
const key = process.env["SEARCHD_API_KEY"];
if (!base || !key) {
  throw new Error("set SEARCHD_URL and SEARCHD_API_KEY to a running searchd and its key (.ci/checks.d/45-clients.sh starts one)");
}
const api = searchd(base, key);
const anonymous = searchd(base);

async function refused(call: Promise<unknown>, status: number, code: string): Promise<SearchdError> {
  const err = await call.then(
    () => assert.fail(`expected ${status} ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SearchdError, String(err));
  assert.equal(err.status, status);
  assert.equal(err.code, code);
  return err;
}

test("search filters, counts facets and types every hit", async () => {
  const res = await api.search({ q: "mining", country: ["Peru", "Mexico"], facets: "country,sector", per_page: 5 });
  assert.ok(res.total > 0 && res.hits.length > 0, "nothing found for mining in Peru or Mexico");
  for (const hit of res.hits) {
    assert.ok(hit.countries.some((c) => c === "Peru" || c === "Mexico"), `${hit.id} is in ${hit.countries.join(", ")}`);
    const start: string | null = hit.start; // nullable in the 3.1 schema
    assert.ok(start === null || /^\d{4}-\d{2}-\d{2}$/.test(start));
  }
  const countries = res.facets["country"] ?? [];
  assert.ok(countries.some((v) => v.value === "Peru" && v.count > 0), "the country facet lacks Peru");
});

test("a bad parameter is a typed error with the service's message", async () => {
  const err = await refused(api.search({ q: "mining", per_page: 1000 }), 400, "invalid_parameter");
  assert.match(err.message, /per_page/);
});

test("suggest completes what is typed", async () => {
  const res = await api.suggest("migr", 5);
  assert.ok(res.suggestions.length > 0 && res.suggestions.length <= 5);
  assert.ok(res.suggestions.some((s) => /migr/i.test(s.text)), JSON.stringify(res.suggestions));
});

test("a write with the key is searchable, readable and deletable; without it, 401", async () => {
  const doc: Schemas["Document"] = {
    id: "typed-client-cocoa",
    kind: "project",
    title: "Typed client check: cocoa cooperatives in Ghana",
    description: "Organising cocoa farm workers into cooperatives in Ghana.",
    countries: ["Ghana"],
    start: "2024-01-01",
    end: "2026-12-31",
  };
  await refused(anonymous.put(doc), 401, "unauthorized");
  const stored = await api.put(doc);
  assert.equal(stored.id, doc.id);
  const found = await api.search({ q: "cocoa cooperatives", per_page: 3 });
  assert.equal(found.hits[0]?.id, doc.id);
  assert.equal((await api.get(doc.id)).title, doc.title);
  await api.remove(doc.id);
  await refused(api.get(doc.id), 404, "not_found");
});

test("the Algolia route answers as /v1 does", async () => {
  const [result] = await api.algolia({ requests: [{ indexName: "projects", query: "mining", hitsPerPage: 3, facets: ["country"] }] });
  assert.ok(result && "nbHits" in result, "no query result");
  const v1 = await api.search({ q: "mining", per_page: 3, facets: "country" });
  assert.equal(result.nbHits, v1.total);
  assert.deepEqual(result.hits.map((h) => h.objectID), v1.hits.map((h) => h.id));
});
