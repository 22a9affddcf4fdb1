import { performance } from "node:perf_hooks";
import { ed25519KeyLine, startBenchGateway } from "../support/bench-gateway.js";

/**
 * List throughput of REST and GraphQL side by side: a page of 100 verify sessions, REST's summaries against
 * GraphQL with the same fields, and GraphQL with each session's keys. Plain bounded loops over fetch.
 * `npm run bench:graphql` (NODE_ENV=production, as graphql-js runs in production); BENCH_DATABASE_URL=mysql://...
 * runs it on an empty scratch MySQL/MariaDB database instead of a temp SQLite file.
 */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 150);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const SUMMARY_FIELDS = `id connectionIdentifier status externalId matchAllKeys maxAttempts multiConnection multiKey mustConfirm
  sshBanner sshMessage expiredAt createdAt updatedAt`;

interface Scenario {
  name: string;
  request: () => Promise<Response>;
}


async function measure(scenario: Scenario): Promise<{ perSecond: number; p50: number; p99: number }> {
  const check = async () => {
    const response = await scenario.request();
    const body = await response.text();
    if (response.status !== 200 || body.includes('"errors"')) throw new Error(`${scenario.name}: ${response.status} ${body.slice(0, 300)}`);
  };
  for (let warmup = 0; warmup < 20; warmup++) await check();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        const sent = performance.now();
        await check();
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))];
  return { perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const bench = await startBenchGateway({ LOG_LEVEL: "silent" });
  const { gateway, apiKey, caller } = bench;
  try {
    for (let index = 0; index < SESSIONS; index++) {
      await gateway.services.sessions.create(caller, "verify", { keys: [{ publicKey: ed25519KeyLine() }, { publicKey: ed25519KeyLine() }] });
    }
    const headers = { "x-api-key": apiKey, "content-type": "application/json" };
    const graphqlPage = (fields: string) => () =>
      fetch(`${gateway.httpUrl}/graphql`, {
        method: "POST",
        headers,
        body: JSON.stringify({ query: `{ verifySessions(first: 100) { edges { node { ${fields} } } } }` }),
      });
    const scenarios: Scenario[] = [
      { name: "REST    GET /api/v1/ssh/verify/sessions/?limit=100 (summaries)", request: () => fetch(`${gateway.httpUrl}/api/v1/ssh/verify/sessions/?limit=100`, { headers }) },
      { name: "GraphQL verifySessions(first: 100), summary fields", request: graphqlPage(SUMMARY_FIELDS) },
      {
        name: "GraphQL verifySessions(first: 100), summary fields + keys",
        request: graphqlPage(`${SUMMARY_FIELDS} keys { id name externalId publicKeyAlgorithm publicKeySsh publicKeySha256 publicKeyMd5 verifiedAt }`),
      },
    ];
    const dialect = gateway.services.database.dialect;
    process.stdout.write(
      `List throughput, page of 100 verify sessions: ${dialect}, ${SESSIONS} sessions with 2 keys each, ` +
        `${CONCURRENCY} concurrent clients, ${REQUESTS} requests per scenario, node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? "unset"}\n\n`,
    );
    process.stdout.write(`${"scenario".padEnd(68)}${"req/s".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}\n`);
    for (const scenario of scenarios) {
      const { perSecond, p50, p99 } = await measure(scenario);
      process.stdout.write(`${scenario.name.padEnd(68)}${perSecond.toFixed(0).padStart(8)}${p50.toFixed(1).padStart(9)}${p99.toFixed(1).padStart(9)}\n`);
    }
  } finally {
    await bench.stop();
  }
}

await main();
