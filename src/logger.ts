import { type DestinationStream, pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

/** Structured JSON logs; secrets are redacted wherever they might appear. Standard output unless told otherwise. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "sshverify" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "apiKey",
        "api_key",
        "secret",
        "*.apiKey",
        "*.api_key",
        "*.secret",
        "*.*.secret",
        "webhooks[*].secret",
        "*.webhooks[*].secret",
        "headers[\"x-api-key\"]",
        "headers.authorization",
        "*.headers[\"x-api-key\"]",
        "*.headers.authorization",
      ],
      censor: "[redacted]",
    },
  };
  // Standard output written synchronously, as Node writes it to files and pipes: a line is out when the call
  // returns (none lost at a crash), and there is no thread-pool job per line.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
