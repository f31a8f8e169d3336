// A typed client for searchd: every path, parameter and body type comes
// from ./api.d.ts, which openapi-typescript generates from the
// /openapi.json the service serves (npm run generate), so a change to the
// API that breaks a caller fails `tsc --strict` here.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

export type Schemas = components["schemas"];
export type SearchQuery = NonNullable<paths["/v1/search"]["get"]["parameters"]["query"]>;
export type AlgoliaQueries = Schemas["AlgoliaQueries"];

/** An error answer of the service: its envelope, as an exception. */
export class SearchdError extends Error {
  constructor(
    readonly status: number,
    readonly code: Schemas["Error"]["error"]["code"],
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

function failure(response: Response, body: Schemas["Error"] | undefined): SearchdError {
  if (body?.error) {
    return new SearchdError(response.status, body.error.code, body.error.message);
  }
  return new SearchdError(response.status, "internal", `unexpected answer ${response.status}`);
}

/**
 * Searches, suggestions and (with the API key) writes against the service
 * at baseUrl.
 */
export function searchd(baseUrl: string, apiKey?: string) {
  const client = createClient<paths>({ baseUrl });
  const auth = apiKey === undefined ? {} : { headers: { Authorization: `Bearer ${apiKey}` } };
  return {
    async search(query: SearchQuery): Promise<Schemas["SearchResponse"]> {
      const { data, error, response } = await client.GET("/v1/search", { params: { query } });
      if (data === undefined) throw failure(response, error);
      return data;
    },
    async suggest(q: string, limit?: number): Promise<Schemas["SuggestResponse"]> {
      const query = limit === undefined ? { q } : { q, limit };
      const { data, error, response } = await client.GET("/v1/suggest", { params: { query } });
      if (data === undefined) throw failure(response, error);
      return data;
    },
    async get(id: string): Promise<Schemas["Document"]> {
      const { data, error, response } = await client.GET("/v1/documents/{id}", { params: { path: { id } } });
      if (data === undefined) throw failure(response, error);
      return data;
    },
    async put(doc: Schemas["Document"]): Promise<Schemas["Document"]> {
      const { data, error, response } = await client.PUT("/v1/documents/{id}", { params: { path: { id: doc.id } }, body: doc, ...auth });
      if (data === undefined) throw failure(response, error);
      return data;
    },
    async remove(id: string): Promise<void> {
      const { error, response } = await client.DELETE("/v1/documents/{id}", { params: { path: { id } }, ...auth });
      if (!response.ok) throw failure(response, error);
    },
    /** The Algolia-compatible multi-query, as InstantSearch sends it. */
    async algolia(body: AlgoliaQueries) {
      const { data, error, response } = await client.POST("/1/indexes/*/queries", { body });
      if (data === undefined) throw new SearchdError(response.status, error?.error.code ?? "internal", error?.message ?? "unexpected answer");
      return data.results;
    },
  };
}
