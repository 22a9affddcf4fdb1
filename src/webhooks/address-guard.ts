import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Loopback, private, link-local, CGNAT, metadata, multicast and reserved ranges: never a webhook target by default.
 * Two lists, because one BlockList matches every IPv4 address against the IPv4-mapped IPv6 range.
 */
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blockedV4.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blockedV6.addSubnet(network, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blockedV4.check(mapped[1], "ipv4");
    return blockedV6.check(address, "ipv6");
  }
  return blockedV4.check(address, "ipv4");
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution as the guard sees it; the default is the system resolver (dns.lookup), tests inject their own. */
export type DnsLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: DnsLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** A connection refused because its target is a private address; `address` is the one that was refused. */
export class PrivateTargetError extends Error {
  readonly code = "WEBHOOK_PRIVATE_TARGET";

  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      host === address
        ? `${address} is a private or loopback address, which is not allowed`
        : `${host} resolves to a private or loopback address (${address}), which is not allowed`,
    );
    this.name = "PrivateTargetError";
  }
}

/** The host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * The `lookup` option for a socket: resolves the name and refuses private addresses right where the
 * socket picks the address it connects to, so a name cannot resolve one way when checked and another
 * when connected (DNS rebinding).
 */
export function guardedSocketLookup(resolve: DnsLookup, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (resolved) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = resolved.filter((entry) => family === 0 || entry.family === family);
        const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
        if (refused) return callback(new PrivateTargetError(hostname, refused.address), "", 0);
        if (addresses.length === 0) {
          return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: "ENOTFOUND" }), "", 0);
        }
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

/**
 * Why a webhook URL may not be used, or null. Checked when a webhook is created or changed; the delivery
 * checks again on the address it connects to (`guardedSocketLookup`).
 */
export async function webhookTargetProblem(url: string, allowPrivate: boolean, resolve: DnsLookup = systemLookup): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute http or https URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an absolute http or https URL";
  if (parsed.username || parsed.password) return "must not contain credentials";
  if (allowPrivate) return null;
  const host = hostOf(parsed);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolve(host)).map((entry) => entry.address);
    } catch {
      return `host "${host}" does not resolve`;
    }
    if (addresses.length === 0) return `host "${host}" does not resolve`;
  }
  const privateAddress = addresses.find(isPrivateAddress);
  return privateAddress ? new PrivateTargetError(host, privateAddress).message : null;
}
