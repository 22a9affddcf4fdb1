import { randomBytes } from "node:crypto";
import { loadConfig, type Config } from "../../src/config.js";
import { startGateway, type Gateway, type GatewayOptions } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type DatabaseKind, type TestDatabase } from "./databases.js";

export interface TestGateway extends Gateway {
  readonly database: TestDatabase;
  /** The bootstrap key of the `default` project. */
  readonly apiKey: string;
  /** fetch against the gateway with the API key set (pass `apiKey: null` to send none). */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string | Buffer;
  apiKey?: string | null;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

/** Environment for a gateway on free ports with a known API key; `overrides` are more environment variables. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SSH_PORT: "0",
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    BOOTSTRAP_API_KEY: `test_${randomBytes(16).toString("hex")}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    WEBHOOK_ALLOW_PRIVATE: "true",
    // The expiry sweeper's queries would land in tests that count SQL statements; tests of expiry set it lower.
    EXPIRY_SWEEP_INTERVAL_SECONDS: "3600",
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...overrides,
  });
}

/** Starts a whole gateway on a fresh database of the given kind; `options` are what only code can pass (a DNS lookup). */
export async function startTestGateway(
  kind: DatabaseKind,
  overrides: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const database = await createTestDatabase(kind);
  const config = testConfig(database.url, overrides);
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, createLogger(config.logLevel), options);
  } catch (error) {
    await database.drop();
    throw error;
  }
  const apiKey = config.bootstrapApiKey as string;
  return Object.assign(Object.create(gateway) as Gateway, gateway, {
    database,
    apiKey,
    request: (method: string, path: string, options: RequestOptions = {}) =>
      sendRequest(gateway.httpUrl, apiKey, method, path, options),
    stop: async () => {
      await gateway.stop();
      await database.drop();
    },
  });
}

export async function sendRequest(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.apiKey === undefined ? apiKey : options.apiKey;
  if (key !== null) headers["x-api-key"] = key;
  let body: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
