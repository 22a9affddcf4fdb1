import { Writable } from "node:stream";
import { startGateway, type Gateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase } from "./databases.js";
import { testConfig } from "./gateway.js";

/** A gateway on SQLite whose JSON log lines (level info and up) are kept for the test to read. */
export interface LoggedGateway {
  gateway: Gateway;
  apiKey: string;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startLoggedGateway(environment: Record<string, string> = {}): Promise<LoggedGateway> {
  const database = await createTestDatabase("sqlite");
  const config = testConfig(database.url, environment);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const gateway = await startGateway(config, createLogger("info", sink));
  return {
    gateway,
    apiKey: config.bootstrapApiKey as string,
    lines,
    close: async () => {
      await gateway.stop();
      await database.drop();
    },
  };
}
