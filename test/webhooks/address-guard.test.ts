import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  type DnsLookup,
  guardedSocketLookup,
  isPrivateAddress,
  PrivateTargetError,
  webhookTargetProblem,
} from "../../src/webhooks/address-guard.js";

/** A resolver that knows only the names it is given. */
function fakeDns(names: Record<string, string[]>): DnsLookup {
  return async (hostname) => {
    const addresses = names[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

function socketLookup(resolve: DnsLookup, allowPrivate: boolean, hostname: string, all: boolean) {
  return new Promise<{ error: Error | null; addresses: LookupAddress[] | string; family?: number }>((done) =>
    guardedSocketLookup(resolve, allowPrivate)(hostname, { all }, (error, addresses, family) => done({ error, addresses, family })),
  );
}

describe("the webhook address guard", () => {
  it.each([
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "not an address",
  ])("treats %s as private", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])("treats %s as public", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it("refuses a URL whose literal address is private, naming the address", async () => {
    await expect(webhookTargetProblem("http://127.0.0.1:8080/hook", false)).resolves.toBe(
      "127.0.0.1 is a private or loopback address, which is not allowed",
    );
    await expect(webhookTargetProblem("http://[::1]/hook", false)).resolves.toContain("::1 is a private");
  });

  it("refuses a name that resolves to a private address, naming both", async () => {
    const dns = fakeDns({ "hooks.example.com": ["93.184.216.34", "10.0.0.7"] });
    await expect(webhookTargetProblem("https://hooks.example.com/x", false, dns)).resolves.toBe(
      "hooks.example.com resolves to a private or loopback address (10.0.0.7), which is not allowed",
    );
  });

  it("accepts a name that resolves only to public addresses", async () => {
    const dns = fakeDns({ "hooks.example.com": ["93.184.216.34"] });
    await expect(webhookTargetProblem("https://hooks.example.com/x", false, dns)).resolves.toBeNull();
  });

  it("accepts private targets when WEBHOOK_ALLOW_PRIVATE is on", async () => {
    await expect(webhookTargetProblem("http://127.0.0.1/hook", true)).resolves.toBeNull();
  });

  it("refuses names that do not resolve, credentials in the URL and other schemes", async () => {
    const dns = fakeDns({});
    await expect(webhookTargetProblem("https://nowhere.example/x", false, dns)).resolves.toBe('host "nowhere.example" does not resolve');
    await expect(webhookTargetProblem("https://user:pw@hooks.example.com/", true)).resolves.toBe("must not contain credentials");
    await expect(webhookTargetProblem("ftp://hooks.example.com/", true)).resolves.toBe("must be an absolute http or https URL");
    await expect(webhookTargetProblem("hooks.example.com", true)).resolves.toBe("must be an absolute http or https URL");
  });

  describe("as the socket's lookup", () => {
    const dns = fakeDns({ "hooks.example.com": ["127.0.0.1"], "public.example.com": ["93.184.216.34", "2606:4700::1"] });

    it("fails the connection with PrivateTargetError when the name resolves to a private address", async () => {
      const { error } = await socketLookup(dns, false, "hooks.example.com", true);
      expect(error).toBeInstanceOf(PrivateTargetError);
      expect(error?.message).toBe("hooks.example.com resolves to a private or loopback address (127.0.0.1), which is not allowed");
    });

    it("lets the connection through when private targets are allowed", async () => {
      await expect(socketLookup(dns, true, "hooks.example.com", false)).resolves.toEqual({
        error: null,
        addresses: "127.0.0.1",
        family: 4,
      });
    });

    it("answers every address when asked for all (happy eyeballs), one otherwise", async () => {
      const all = await socketLookup(dns, false, "public.example.com", true);
      expect(all.addresses).toEqual([
        { address: "93.184.216.34", family: 4 },
        { address: "2606:4700::1", family: 6 },
      ]);
      const one = await socketLookup(dns, false, "public.example.com", false);
      expect(one).toEqual({ error: null, addresses: "93.184.216.34", family: 4 });
    });

    it("passes resolver errors on", async () => {
      const { error } = await socketLookup(dns, false, "unknown.example.com", true);
      expect(error?.message).toBe("getaddrinfo ENOTFOUND unknown.example.com");
    });
  });
});
