import { BlockList, isIP } from "node:net";
import type { Middleware } from "koa";

/** What the client-address middleware puts on `ctx.state`: the base URL for `$schema` URLs and links. */
export interface ClientAddressState {
  origin: string;
}

/** The parts of a request the resolver looks at. */
export interface RequestAddressing {
  /** The peer of the TCP connection (a proxy, when there is one). */
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** Used only when neither PUBLIC_URL nor a Host header gives a usable origin. */
  localAddress?: string;
  localPort?: number;
}

/** A Host header is pasted into URLs we hand out: accept a host name or IP with an optional port, nothing else. */
const ACCEPTABLE_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** `::ffff:10.0.0.1` is how a dual-stack socket reports an IPv4 peer. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(",") : value;
  const first = joined?.split(",")[0]?.trim();
  return first ? first : undefined;
}

/**
 * Client IP and public origin behind reverse proxies. `X-Forwarded-*` headers are believed only from
 * peers in TRUSTED_PROXIES; anyone else could write them.
 */
export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly hasTrustedProxies: boolean;

  constructor(
    trustedProxies: readonly string[],
    private readonly publicUrl: string | null,
  ) {
    for (const cidr of trustedProxies) {
      const [address, prefix] = cidr.split("/");
      const type = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
    this.hasTrustedProxies = trustedProxies.length > 0;
  }

  private isTrusted(address: string | undefined): boolean {
    if (!this.hasTrustedProxies || !address) return false;
    const plain = plainAddress(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.trusted.check(plain, family === 6 ? "ipv6" : "ipv4");
  }

  /**
   * The client's IP: walking `X-Forwarded-For` from the nearest hop back, the first address that is not a
   * trusted proxy. A malformed entry ends the walk at the last address that could be vouched for.
   */
  clientIp(request: RequestAddressing): string | undefined {
    let client = request.remoteAddress === undefined ? undefined : plainAddress(request.remoteAddress);
    if (!this.isTrusted(client)) return client;
    const header = request.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean)
      .reverse();
    for (const hop of hops) {
      if (isIP(plainAddress(hop)) === 0) return client;
      client = plainAddress(hop);
      if (!this.isTrusted(client)) return client;
    }
    return client;
  }

  /** PUBLIC_URL when set; else `X-Forwarded-Proto`/`-Host` from a trusted proxy; else the request's own Host. */
  origin(request: RequestAddressing): string {
    if (this.publicUrl) return this.publicUrl;
    let protocol = "http";
    let host = firstHeaderValue(request.headers.host);
    if (this.isTrusted(request.remoteAddress)) {
      const forwardedProtocol = firstHeaderValue(request.headers["x-forwarded-proto"])?.toLowerCase();
      if (forwardedProtocol === "http" || forwardedProtocol === "https") protocol = forwardedProtocol;
      const forwardedHost = firstHeaderValue(request.headers["x-forwarded-host"]);
      if (forwardedHost && ACCEPTABLE_HOST.test(forwardedHost)) host = forwardedHost;
    }
    if (host && ACCEPTABLE_HOST.test(host)) return `${protocol}://${host.toLowerCase()}`;
    return `${protocol}://${localHost(request)}`;
  }
}

function localHost(request: RequestAddressing): string {
  const address = plainAddress(request.localAddress ?? "127.0.0.1");
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return request.localPort === undefined ? host : `${host}:${request.localPort}`;
}

/**
 * Sets `ctx.request.ip` (what `ctx.ip` reads everywhere after this) to the client's IP and
 * `ctx.state.origin` to the public base URL.
 */
export function clientAddress(resolver: ClientAddressResolver): Middleware {
  return async (context, next) => {
    const request: RequestAddressing = {
      remoteAddress: context.req.socket.remoteAddress,
      headers: context.req.headers,
      localAddress: context.req.socket.localAddress,
      localPort: context.req.socket.localPort,
    };
    context.request.ip = resolver.clientIp(request) ?? "";
    (context.state as ClientAddressState).origin = resolver.origin(request);
    await next();
  };
}
