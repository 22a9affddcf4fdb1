import type { TestGateway } from "../../support/gateway.js";

export interface GraphqlError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; errors?: Array<{ location: string; message: string; value?: unknown }>; [key: string]: unknown };
}

export interface GraphqlResponse<T = any> {
  status: number;
  data: T | null | undefined;
  errors: GraphqlError[] | undefined;
}

/** POSTs one operation to /graphql the way a client does (JSON, the gateway's API key unless told otherwise). */
export async function graphql<T = any>(
  gateway: TestGateway,
  query: string,
  variables: Record<string, unknown> = {},
  options: { apiKey?: string | null; headers?: Record<string, string> } = {},
): Promise<GraphqlResponse<T>> {
  const response = await gateway.request("POST", "/graphql", { body: { query, variables }, ...options });
  if (response.json === undefined) throw new Error(`not JSON (${response.status}): ${response.text}`);
  return { status: response.status, data: response.json.data, errors: response.json.errors };
}

/** The data of an operation that must succeed; a GraphQL error fails the test with its message. */
export async function graphqlData<T = any>(gateway: TestGateway, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await graphql<T>(gateway, query, variables);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/**
 * An operation's response, and the fewest statements it cost over `runs` runs: the gateway's background workers
 * share the statement counter and only ever add to it.
 */
export async function fewestStatements(
  gateway: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  { apiKey, runs }: { apiKey?: string | null; runs: number },
): Promise<{ response: GraphqlResponse; statements: number }> {
  let fewest = Number.POSITIVE_INFINITY;
  let response: GraphqlResponse | undefined;
  for (let run = 0; run < runs; run++) {
    const before = gateway.services.database.statements.count;
    response = await graphql(gateway, query, variables, { apiKey });
    fewest = Math.min(fewest, gateway.services.database.statements.count - before);
  }
  return { response: response as GraphqlResponse, statements: fewest };
}
