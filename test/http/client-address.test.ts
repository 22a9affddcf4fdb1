import http from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import { afterAll, describe, expect, it } from "vitest";
import { clientAddress, ClientAddressResolver, type ClientAddressState } from "../../src/http/client-address.js";

const request = (remoteAddress: string, headers: Record<string, string> = {}) => ({ remoteAddress, headers });

describe("client IP behind proxies", () => {
  const resolver = new ClientAddressResolver(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"], null);

  it("uses the TCP peer and ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(resolver.clientIp(request("198.51.100.9", { "x-forwarded-for": "1.2.3.4" }))).toBe("198.51.100.9");
  });

  it("takes the nearest address in X-Forwarded-For that is not a trusted proxy", () => {
    expect(resolver.clientIp(request("10.1.2.3", { "x-forwarded-for": "1.2.3.4, 203.0.113.5, 10.9.9.9" }))).toBe("203.0.113.5");
    expect(resolver.clientIp(request("192.0.2.1", { "x-forwarded-for": "203.0.113.5" }))).toBe("203.0.113.5");
  });

  it("does not let a client prepend addresses to X-Forwarded-For to pick its own IP", () => {
    expect(resolver.clientIp(request("10.1.2.3", { "x-forwarded-for": "10.0.0.1, 203.0.113.5" }))).toBe("203.0.113.5");
  });

  it("falls back to the farthest trusted hop when every hop is a trusted proxy", () => {
    expect(resolver.clientIp(request("10.1.2.3", { "x-forwarded-for": "10.4.4.4, 10.5.5.5" }))).toBe("10.4.4.4");
  });

  it("stops at a malformed X-Forwarded-For entry instead of believing it", () => {
    expect(resolver.clientIp(request("10.1.2.3", { "x-forwarded-for": "203.0.113.5, not-an-ip" }))).toBe("10.1.2.3");
  });

  it("reads IPv4-mapped IPv6 peers and IPv6 ranges", () => {
    expect(resolver.clientIp(request("::ffff:10.1.2.3", { "x-forwarded-for": "203.0.113.5" }))).toBe("203.0.113.5");
    expect(resolver.clientIp(request("::ffff:198.51.100.9"))).toBe("198.51.100.9");
    expect(resolver.clientIp(request("2001:db8::1", { "x-forwarded-for": "2001:db9::7" }))).toBe("2001:db9::7");
  });

  it("believes nobody's X-Forwarded-For when TRUSTED_PROXIES is empty", () => {
    const untrusting = new ClientAddressResolver([], null);
    expect(untrusting.clientIp(request("10.1.2.3", { "x-forwarded-for": "203.0.113.5" }))).toBe("10.1.2.3");
  });
});

describe("public origin for $schema URLs and links", () => {
  const resolver = new ClientAddressResolver(["10.0.0.0/8"], null);

  it("is PUBLIC_URL whenever it is set, whatever the request says", () => {
    const fixed = new ClientAddressResolver(["10.0.0.0/8"], "https://verify.example.com/base");
    const origin = fixed.origin(request("10.1.2.3", { host: "evil.example", "x-forwarded-host": "evil.example" }));
    expect(origin).toBe("https://verify.example.com/base");
  });

  it("takes X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy", () => {
    const origin = resolver.origin(
      request("10.1.2.3", { host: "internal:3000", "x-forwarded-proto": "https", "x-forwarded-host": "api.example.com" }),
    );
    expect(origin).toBe("https://api.example.com");
  });

  it("ignores X-Forwarded-* from anyone else and uses the Host header", () => {
    const origin = resolver.origin(
      request("198.51.100.9", { host: "gateway.local:3000", "x-forwarded-proto": "https", "x-forwarded-host": "evil.example" }),
    );
    expect(origin).toBe("http://gateway.local:3000");
  });

  it("refuses a Host that is not a host name, and uses the listening address instead", () => {
    const origin = resolver.origin({
      remoteAddress: "198.51.100.9",
      headers: { host: "evil.example/path?x=" },
      localAddress: "127.0.0.1",
      localPort: 3000,
    });
    expect(origin).toBe("http://127.0.0.1:3000");
  });

  it("accepts bracketed IPv6 hosts with a port", () => {
    expect(resolver.origin(request("198.51.100.9", { host: "[::1]:3000" }))).toBe("http://[::1]:3000");
  });
});

describe("client address middleware", () => {
  const servers: http.Server[] = [];
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });

  async function serve(trustedProxies: string[]): Promise<string> {
    const app = new Koa();
    app.use(clientAddress(new ClientAddressResolver(trustedProxies, null)));
    app.use((context) => {
      context.body = { ip: context.ip, origin: (context.state as ClientAddressState).origin };
    });
    const server = http.createServer(app.callback());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("sets ctx.ip and ctx.state.origin from a trusted proxy's headers", async () => {
    const baseUrl = await serve(["127.0.0.1"]);
    const response = await fetch(baseUrl, {
      headers: { "x-forwarded-for": "203.0.113.5", "x-forwarded-proto": "https", "x-forwarded-host": "api.example.com" },
    });
    expect(await response.json()).toEqual({ ip: "203.0.113.5", origin: "https://api.example.com" });
  });

  it("keeps the peer's address and the Host header when the peer is not trusted", async () => {
    const baseUrl = await serve([]);
    const response = await fetch(baseUrl, { headers: { "x-forwarded-for": "203.0.113.5", "x-forwarded-host": "evil.example" } });
    expect(await response.json()).toEqual({ ip: "127.0.0.1", origin: baseUrl });
  });
});
