import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/databases.js";
import { sendRequest } from "../support/gateway.js";
import { stopProcess } from "../support/processes.js";
import { outsideMinuteBoundary } from "../support/rate-windows.js";
import { newBootstrapKey } from "../webhooks/support/service-processes.js";
import { type GatewayProcess, startGatewayProcess } from "./support/gateway-processes.js";

const LIMIT = 10;
const SESSIONS = "/api/v1/ssh/verify/sessions/";
const QUERY = { query: "{ verifySessions(first: 1) { totalCount } }" };

const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const shared = Boolean(databaseUrl && redisUrl);
if (!shared) {
  console.log("rate limit across two gateway processes: skipped, it needs TEST_DATABASE_URL and TEST_REDIS_URL (MariaDB and Redis)");
}

describe.skipIf(!shared)("RATE_LIMIT_PER_MINUTE across two gateway processes on MariaDB and Redis", () => {
  it("holds one project's limit across both processes, on REST and GraphQL alike", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase("mariadb");
    const apiKey = newBootstrapKey();
    const processes: GatewayProcess[] = [];
    try {
      const environment = { RATE_LIMIT_PER_MINUTE: String(LIMIT) };
      for (let instance = 0; instance < 2; instance++) {
        processes.push(await startGatewayProcess(database.url, apiKey, redisUrl as string, environment));
      }
      const [first, second] = processes.map((gateway) => gateway.url);
      await outsideMinuteBoundary();

      // Alternating instances and APIs, as a load balancer would spread one client's requests.
      const statuses: number[] = [];
      for (let request = 0; request < LIMIT + 4; request++) {
        const baseUrl = request % 2 === 0 ? first : second;
        const response =
          request % 4 < 2
            ? await sendRequest(baseUrl, apiKey, "GET", SESSIONS)
            : await sendRequest(baseUrl, apiKey, "POST", "/graphql", { body: QUERY });
        statuses.push(response.status);
        if (response.status === 429) expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
      expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429, 429, 429]);
    } finally {
      for (const { child } of processes) expect(await stopProcess(child)).toBe(0);
      await database.drop();
    }
  });
});
