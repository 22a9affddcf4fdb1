import "reflect-metadata";
import { ConfigError, loadConfig } from "./config.js";
import { startGateway } from "./gateway.js";
import { createLogger } from "./logger.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sshverify: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // Last resort: a library promise nobody awaited (e.g. a Redis command during an outage) must not end the process.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
  const gateway = await startGateway(config, logger);
  logger.info(
    {
      http: gateway.httpUrl,
      graphql: `${gateway.httpUrl}/graphql`,
      docs: `${gateway.httpUrl}/docs`,
      hostKeys: gateway.hostKeys.map((key) => `${key.algorithm} ${key.sha256}`),
    },
    "SSH Verify Gateway started; create an API key with: npx sshverify project create <name> --json",
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    // The gateway drains within SHUTDOWN_GRACE_SECONDS; this is the backstop should closing itself hang.
    const deadline = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      logger.flush();
      process.exit(1);
    }, config.shutdownGraceSeconds * 1000 + 10_000);
    deadline.unref();
    try {
      await gateway.stop();
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      logger.flush();
      process.exit(1);
    }
    logger.info("stopped");
    logger.flush();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const what = error instanceof ConfigError ? "invalid configuration" : "failed to start";
  process.stderr.write(`sshverify: ${what}: ${message}\n`);
  process.exit(1);
});
