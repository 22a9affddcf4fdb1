import { isIP } from "node:net";
import path from "node:path";

/** One typed, validated view of the environment (SPEC §3). */
export interface Config {
  port: number;
  host: string;
  publicUrl: string | null;
  trustedProxies: string[];
  sshPort: number;
  sshHost: string;
  publicSshHost: string | null;
  sshMaxConnections: number;
  sshMaxConnectionsPerIp: number;
  sshLoginGraceSeconds: number;
  sshIdleTimeoutSeconds: number;
  sshConfirmTimeoutSeconds: number;
  sshMaxKeyOffers: number;
  sshProxyProtocol: boolean;
  sshProxyTrusted: string[];
  sshHostKeyFiles: string[];
  dataDir: string;
  databaseUrl: string;
  redisUrl: string | null;
  webhookAllowPrivate: boolean;
  rateLimitPerMinute: number;
  bootstrapApiKey: string | null;
  logLevel: LogLevel;
  retentionDays: number;
  connectionIpRetentionDays: number;
  invocationRetentionDays: number;
  /** How often each instance looks for pending sessions past their expiry. */
  expirySweepIntervalSeconds: number;
  /** On SIGTERM, how long connections may take to finish before they are closed. */
  shutdownGraceSeconds: number;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

type Environment = Record<string, string | undefined>;

export function loadConfig(env: Environment = process.env): Config {
  const read = new EnvironmentReader(env);
  const dataDir = read.string("DATA_DIR", "./data");
  const config: Config = {
    port: read.port("PORT", 3000),
    host: read.string("HOST", "0.0.0.0"),
    publicUrl: read.url("PUBLIC_URL"),
    trustedProxies: read.cidrs("TRUSTED_PROXIES"),
    sshPort: read.port("SSH_PORT", 2222),
    sshHost: read.string("SSH_HOST", "0.0.0.0"),
    publicSshHost: read.optionalString("PUBLIC_SSH_HOST"),
    sshMaxConnections: read.integer("SSH_MAX_CONNECTIONS", 1000, 1),
    sshMaxConnectionsPerIp: read.integer("SSH_MAX_CONNECTIONS_PER_IP", 64, 1),
    sshLoginGraceSeconds: read.integer("SSH_LOGIN_GRACE_SECONDS", 30, 1),
    sshIdleTimeoutSeconds: read.integer("SSH_IDLE_TIMEOUT_SECONDS", 60, 1),
    sshConfirmTimeoutSeconds: read.integer("SSH_CONFIRM_TIMEOUT_SECONDS", 60, 1),
    sshMaxKeyOffers: read.integer("SSH_MAX_KEY_OFFERS", 20, 1),
    sshProxyProtocol: read.boolean("SSH_PROXY_PROTOCOL", false),
    sshProxyTrusted: read.cidrs("SSH_PROXY_TRUSTED"),
    sshHostKeyFiles: read.list("SSH_HOST_KEY_FILES"),
    dataDir,
    databaseUrl: read.databaseUrl("DATABASE_URL", `sqlite:${path.join(dataDir, "sshverify.db")}`),
    redisUrl: read.url("REDIS_URL", ["redis:", "rediss:"]),
    webhookAllowPrivate: read.boolean("WEBHOOK_ALLOW_PRIVATE", false),
    rateLimitPerMinute: read.integer("RATE_LIMIT_PER_MINUTE", 0, 0),
    bootstrapApiKey: read.apiKey("BOOTSTRAP_API_KEY"),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    retentionDays: read.integer("RETENTION_DAYS", 0, 0),
    connectionIpRetentionDays: read.integer("CONNECTION_IP_RETENTION_DAYS", 0, 0),
    invocationRetentionDays: read.integer("INVOCATION_RETENTION_DAYS", 0, 0),
    expirySweepIntervalSeconds: read.integer("EXPIRY_SWEEP_INTERVAL_SECONDS", 5, 1, 3600),
    shutdownGraceSeconds: read.integer("SHUTDOWN_GRACE_SECONDS", 10, 0, 600),
  };
  if (config.sshProxyProtocol && config.sshProxyTrusted.length === 0) {
    // With no balancer trusted, every PROXY header would be refused: surely not what was meant.
    throw new ConfigError("SSH_PROXY_TRUSTED", "name the load balancers allowed to send PROXY headers when SSH_PROXY_PROTOCOL=true");
  }
  return config;
}

class EnvironmentReader {
  constructor(private readonly env: Environment) {}

  optionalString(name: string): string | null {
    const value = this.env[name]?.trim();
    return value ? value : null;
  }

  string(name: string, fallback: string): string {
    return this.optionalString(name) ?? fallback;
  }

  integer(name: string, fallback: number, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
    const raw = this.optionalString(name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < minimum || value > maximum) {
      throw new ConfigError(name, `must be between ${minimum} and ${maximum}, got ${value}`);
    }
    return value;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, 0, 65535);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined || raw === null) return fallback;
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    throw new ConfigError(name, `expected true or false, got "${raw}"`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optionalString(name);
    if (raw === null) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  }

  list(name: string): string[] {
    const raw = this.optionalString(name);
    if (raw === null) return [];
    return raw
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
  }

  cidrs(name: string): string[] {
    const items = this.list(name);
    for (const item of items) {
      if (!isCidr(item)) throw new ConfigError(name, `"${item}" is not an IP address or CIDR range`);
    }
    return items;
  }

  url(name: string, protocols: string[] = ["http:", "https:"]): string | null {
    const raw = this.optionalString(name);
    if (raw === null) return null;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, `"${raw}" is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `expected a ${protocols.join(" or ")} URL, got "${parsed.protocol}"`);
    }
    return raw.replace(/\/+$/, "");
  }

  databaseUrl(name: string, fallback: string): string {
    const raw = this.string(name, fallback);
    if (raw.startsWith("sqlite:")) {
      if (raw.length === "sqlite:".length) throw new ConfigError(name, "sqlite: needs a file path or :memory:");
      return raw;
    }
    if (this.url(name, ["mysql:", "mariadb:"]) === null) throw new ConfigError(name, "is empty");
    return raw;
  }

  apiKey(name: string): string | null {
    const raw = this.optionalString(name);
    if (raw === null) return null;
    if (raw.length < 16) throw new ConfigError(name, "must be at least 16 characters long");
    if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError(name, "must be printable ASCII without spaces");
    return raw;
  }
}

export function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
