import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

/** Structured JSON logs; secrets are redacted wherever they might appear. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "sshverify" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["apiKey", "api_key", "secret", "*.secret", "headers[\"x-api-key\"]", "req.headers[\"x-api-key\"]"],
      censor: "[redacted]",
    },
  });
}
