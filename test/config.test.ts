import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { run, MAIN } from "./support/processes.js";

describe("configuration", () => {
  it("uses the documented defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      sshPort: 2222,
      sshHost: "0.0.0.0",
      sshMaxConnections: 1000,
      sshMaxConnectionsPerIp: 64,
      sshLoginGraceSeconds: 30,
      sshIdleTimeoutSeconds: 60,
      sshConfirmTimeoutSeconds: 60,
      sshMaxKeyOffers: 20,
      sshProxyProtocol: false,
      dataDir: "./data",
      databaseUrl: "sqlite:data/sshverify.db",
      redisUrl: null,
      webhookAllowPrivate: false,
      rateLimitPerMinute: 0,
      bootstrapApiKey: null,
      logLevel: "info",
    });
  });

  it("puts the default SQLite database under DATA_DIR", () => {
    expect(loadConfig({ DATA_DIR: "/var/lib/sshverify" }).databaseUrl).toBe("sqlite:/var/lib/sshverify/sshverify.db");
  });

  it("parses lists, booleans and URLs", () => {
    const config = loadConfig({
      TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1",
      SSH_PROXY_PROTOCOL: "true",
      SSH_PROXY_TRUSTED: "::1/128",
      PUBLIC_URL: "https://verify.example.com/",
      REDIS_URL: "redis://127.0.0.1:6379",
      DATABASE_URL: "mysql://root:secret@db:3306/sshverify",
    });
    expect(config.trustedProxies).toEqual(["10.0.0.0/8", "127.0.0.1"]);
    expect(config.sshProxyProtocol).toBe(true);
    expect(config.sshProxyTrusted).toEqual(["::1/128"]);
    expect(config.publicUrl).toBe("https://verify.example.com");
    expect(config.databaseUrl).toBe("mysql://root:secret@db:3306/sshverify");
  });

  it.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["SSH_PORT", "-1"],
    ["SSH_MAX_CONNECTIONS", "0"],
    ["SSH_LOGIN_GRACE_SECONDS", "1.5"],
    ["SSH_PROXY_PROTOCOL", "maybe"],
    ["TRUSTED_PROXIES", "10.0.0.0/33"],
    ["SSH_PROXY_TRUSTED", "not-an-ip"],
    ["PUBLIC_URL", "ftp://example.com"],
    ["PUBLIC_URL", "no url"],
    ["REDIS_URL", "http://localhost"],
    ["DATABASE_URL", "postgres://localhost/db"],
    ["DATABASE_URL", "sqlite:"],
    ["WEBHOOK_ALLOW_PRIVATE", "yes please"],
    ["RATE_LIMIT_PER_MINUTE", "lots"],
    ["BOOTSTRAP_API_KEY", "short"],
    ["BOOTSTRAP_API_KEY", "has a space in it, which is no good"],
    ["LOG_LEVEL", "verbose"],
  ])("rejects %s=%s with an error naming the variable", (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrowError(new RegExp(`^${variable}: `));
  });

  it("asks for SSH_PROXY_TRUSTED when SSH_PROXY_PROTOCOL is on", () => {
    expect(() => loadConfig({ SSH_PROXY_PROTOCOL: "true" })).toThrowError(
      "SSH_PROXY_TRUSTED: name the load balancers allowed to send PROXY headers when SSH_PROXY_PROTOCOL=true",
    );
  });

  it("stops start-up with one line naming the variable, and no stack trace", async () => {
    const result = await run(process.execPath, [MAIN], { SSH_MAX_CONNECTIONS_PER_IP: "lots" });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("SSH_MAX_CONNECTIONS_PER_IP");
    expect(result.stderr).not.toMatch(/\bat .+\.js:\d+/);
  });

  it("names SSH_HOST_KEY_FILES in one line when a host key file is missing or unusable", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "sshverify-config-"));
    try {
      writeFileSync(path.join(directory, "junk.key"), "not a key\n");
      for (const file of ["missing.key", "junk.key"]) {
        const result = await run(process.execPath, [MAIN], {
          DATABASE_URL: `sqlite:${path.join(directory, "db.sqlite")}`,
          SSH_HOST_KEY_FILES: path.join(directory, file),
          PORT: "0",
          SSH_PORT: "0",
          LOG_LEVEL: "silent",
        });
        expect(result.code).not.toBe(0);
        expect(result.stderr.trim().split("\n")).toHaveLength(1);
        expect(result.stderr).toMatch(/^sshverify: invalid configuration: SSH_HOST_KEY_FILES: /);
        expect(result.stderr).toContain(file);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
