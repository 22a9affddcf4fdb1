import { freePort, startServiceProcess } from "../../support/processes.js";

export type GatewayProcess = Awaited<ReturnType<typeof startServiceProcess>>;

/** `node dist/src/main.js` on free ports against `databaseUrl`, sharing Redis when `redisUrl` is given. */
export async function startGatewayProcess(
  databaseUrl: string,
  apiKey: string,
  redisUrl: string | null,
  environment: Record<string, string> = {},
): Promise<GatewayProcess> {
  return startServiceProcess({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    SSH_PORT: String(await freePort()),
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    BOOTSTRAP_API_KEY: apiKey,
    WEBHOOK_ALLOW_PRIVATE: "true",
    LOG_LEVEL: "info",
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...environment,
  });
}

/** The JSON log lines a gateway process wrote so far (anything else it printed is skipped). */
export function logLines(output: string): Array<Record<string, unknown>> {
  return output.split("\n").flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return parsed && typeof parsed === "object" ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
