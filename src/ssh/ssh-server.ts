import { randomUUID } from "node:crypto";
import net, { type AddressInfo, type Socket } from "node:net";
import ssh2, { type Connection, type KexAlgorithm, type ParsedKey } from "ssh2";
import type { Config } from "../config.js";
import type { GatewayMetrics, SshRefusalReason } from "../metrics.js";
import type { Logger } from "../logger.js";
import type { HostKey } from "../services/host-keys.service.js";
import type { SshLoginsService } from "../services/ssh-logins.service.js";
import { connectionOutcomeOf, type ServerEnding } from "./connection-outcome.js";
import { serveConnection } from "./ssh-connection.js";
import { looksLikeProxyHeader, ProxySources, readProxyHeader } from "./proxy-protocol.js";
import { ConnectionDeadlines, peerAddressOf, SocketAdmission } from "./socket-admission.js";
import { parseSigningKey } from "./signing-key.js";
import { coalesceWrites } from "./socket-writes.js";
import { socketOf, useRawCurve25519Keys } from "./ssh2-internals.js";
import { settleWithin } from "../timeouts.js";

const { Server } = ssh2;

/**
 * Set explicitly: what ssh2 implements server-side. Its default list advertises
 * diffie-hellman-group-exchange-sha256, which it cannot complete as a server.
 */
export const KEY_EXCHANGE_ALGORITHMS: KexAlgorithm[] = [
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512",
  "diffie-hellman-group14-sha256",
];

/** How long `close` waits for clients to take their disconnect before their sockets are destroyed. */
const CLOSE_GRACE_MS = 2000;
/** How long a client may keep its side open once the server has ended the connection (ssh2 ends, never destroys). */
const LINGER_MS = 2000;

export interface SshServer {
  readonly port: number;
  /** Sockets accepted and not yet closed. */
  readonly connections: number;
  /**
   * Stops accepting; connections in progress get `graceMs` to finish on their own, then are ended.
   * Resolves once every connection is gone and its outcome recorded.
   */
  close(graceMs?: number): Promise<void>;
}

export interface SshServerOptions {
  config: Config;
  logins: SshLoginsService;
  hostKeys: HostKey[];
  logger: Logger;
  metrics: GatewayMetrics;
}

/** Parsed once, signing with key objects: ssh2 would otherwise parse the key text again for every signature. */
export function parseHostKeys(hostKeys: HostKey[]): Array<{ key: ParsedKey }> {
  return hostKeys.map((hostKey) => {
    try {
      return { key: parseSigningKey(hostKey.privateKey) };
    } catch (error) {
      throw new Error(`host key ${hostKey.algorithm}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** A socket from accept to close. */
interface AcceptedSocket {
  /** The client's address once known: the TCP peer, or the source a trusted balancer's PROXY header names. */
  ipAddress: string | null;
  log: Logger;
  deadlines: ConnectionDeadlines | null;
  connection?: Connection;
  endedBy: ServerEnding | null;
}

interface Refusal {
  reason: SshRefusalReason;
  outcome: ServerEnding;
  message: string;
}

const REFUSALS = {
  connectionCap: { reason: "connection_cap", outcome: "rejected_limit", message: "SSH connection refused: SSH_MAX_CONNECTIONS reached" },
  addressCap: { reason: "address_cap", outcome: "rejected_limit", message: "SSH connection refused: SSH_MAX_CONNECTIONS_PER_IP reached" },
  proxyHeader: { reason: "proxy_header", outcome: "rejected_proxy", message: "SSH connection refused: no valid PROXY protocol header from a trusted balancer" },
  untrustedProxyHeader: { reason: "proxy_header", outcome: "rejected_proxy", message: "SSH connection refused: PROXY protocol header from a peer not in SSH_PROXY_TRUSTED" },
} satisfies Record<string, Refusal>;

/**
 * The SSH listener: our own net.Server accepts sockets (TCP_NODELAY, connection caps, login and idle
 * deadlines) and hands each one to ssh2, which speaks the protocol.
 */
export async function startSshServer({ config, logins, hostKeys, logger, metrics }: SshServerOptions): Promise<SshServer> {
  const protocol = new Server({
    hostKeys: parseHostKeys(hostKeys),
    algorithms: { kex: KEY_EXCHANGE_ALGORITHMS },
    ident: "SSHVerifyGateway",
  });
  const admission = new SocketAdmission({
    maxConnections: config.sshMaxConnections,
    maxConnectionsPerIp: config.sshMaxConnectionsPerIp,
  });
  const proxySources = config.sshProxyProtocol ? new ProxySources(config.sshProxyTrusted) : null;
  const accepted = new Map<Socket, AcceptedSocket>();
  /** Connections whose outcome (a failed attempt at disconnect) is still being recorded. */
  const outcomes = new Set<Promise<void>>();

  /** A refusal of an admitted socket before SSH: logged, counted, closed; its outcome is counted at close. */
  const refuse = (socket: Socket, entry: AcceptedSocket, refusal: Refusal, details: Record<string, unknown>) => {
    entry.log.warn({ ...details, reason: refusal.reason }, refusal.message);
    metrics.recordSshRefusal(refusal.reason);
    entry.endedBy = refusal.outcome;
    socket.destroy();
  };

  const startDeadlines = (socket: Socket, entry: AcceptedSocket) =>
    new ConnectionDeadlines(
      socket,
      { loginGraceMs: config.sshLoginGraceSeconds * 1000, idleMs: config.sshIdleTimeoutSeconds * 1000 },
      (deadline) => {
        const reason = deadline === "login" ? "login_deadline" : "idle_timeout";
        entry.log.info({ ip: entry.ipAddress, deadline, reason }, "SSH connection closed: deadline passed");
        metrics.recordSshRefusal(reason);
        entry.endedBy = "timeout";
        entry.connection?.end();
        socket.destroy();
      },
    );

  /** The client's address is known: its cap, then ssh2 takes the socket. */
  const handOver = (socket: Socket, entry: AcceptedSocket, ipAddress: string) => {
    if (!admission.admitAddress(ipAddress)) return refuse(socket, entry, REFUSALS.addressCap, { ip: ipAddress });
    entry.ipAddress = ipAddress;
    coalesceWrites(socket);
    protocol.injectSocket(socket);
    // After the hand-over: ssh2 has paused the socket, so a listener added now takes no bytes away from it.
    entry.deadlines ??= startDeadlines(socket, entry);
  };

  const listener = net.createServer({ noDelay: true }, (socket) => {
    const peerAddress = peerAddressOf(socket);
    // Every line about this TCP connection carries its id, from accept to the recorded outcome.
    const log = logger.child({ connectionId: randomUUID() });
    socket.on("error", () => socket.destroy());
    socket.once("finish", () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
    if (!admission.admitSocket()) {
      log.warn({ ip: peerAddress, reason: REFUSALS.connectionCap.reason }, REFUSALS.connectionCap.message);
      metrics.recordSshRefusal(REFUSALS.connectionCap.reason);
      metrics.recordSshConnection("rejected_limit");
      socket.destroy();
      return;
    }
    const entry: AcceptedSocket = { ipAddress: null, log, deadlines: null, endedBy: null };
    accepted.set(socket, entry);
    socket.once("close", () => {
      admission.releaseSocket();
      if (entry.ipAddress !== null) admission.releaseAddress(entry.ipAddress);
      entry.deadlines?.clear();
      accepted.delete(socket);
      // A connection that got as far as SSH is counted with its result, once its outcome is recorded.
      if (!entry.connection) metrics.recordSshConnection(entry.endedBy ?? "disconnected");
    });
    if (proxySources?.isTrusted(peerAddress)) {
      // The header's first byte starts the login deadline; a balancer that sends nothing meets the idle one.
      entry.deadlines = startDeadlines(socket, entry);
      void readProxyHeader(socket).then((header) => {
        if (header.state === "closed" || socket.destroyed) return;
        if (header.state !== "complete") return refuse(socket, entry, REFUSALS.proxyHeader, { peer: peerAddress, header: header.reason });
        handOver(socket, entry, header.sourceAddress ?? peerAddress);
      });
      return;
    }
    handOver(socket, entry, peerAddress);
    if (proxySources && !socket.destroyed) {
      socket.once("data", (data: Buffer) => {
        if (looksLikeProxyHeader(data)) refuse(socket, entry, REFUSALS.untrustedProxyHeader, { peer: peerAddress });
      });
    }
  });

  protocol.on("connection", (connection, info) => {
    useRawCurve25519Keys(connection);
    const entry = accepted.get(socketOf(connection));
    if (!entry || entry.ipAddress === null || entry.deadlines === null) return connection.end();
    entry.connection = connection;
    const served = serveConnection(connection, info, {
      logins,
      config,
      logger: entry.log,
      ipAddress: entry.ipAddress,
      deadlines: entry.deadlines,
      metrics,
    }).then((result) => metrics.recordSshConnection(connectionOutcomeOf(result, entry.endedBy)));
    outcomes.add(served);
    void served.finally(() => outcomes.delete(served));
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(config.sshPort, config.sshHost, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  listener.on("error", (error) => logger.error({ err: error }, "SSH listener error"));
  const port = (listener.address() as AddressInfo).port;
  logger.info(
    { ssh: `${config.sshHost}:${port}`, hostKeys: hostKeys.map((key) => `${key.algorithm} ${key.sha256}`) },
    "SSH server listening",
  );

  return {
    port,
    get connections() {
      return accepted.size;
    },
    close: async (graceMs = 0) => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      if (accepted.size > 0 && graceMs > 0) {
        // A verification in progress may finish, within the bound; the listener takes no new ones meanwhile.
        await settleWithin(closed, graceMs, undefined);
      }
      for (const [socket, entry] of accepted) {
        entry.endedBy ??= "shutdown";
        if (entry.connection) entry.connection.end();
        else socket.destroy();
      }
      const grace = setTimeout(() => {
        for (const socket of accepted.keys()) socket.destroy();
      }, CLOSE_GRACE_MS);
      await closed;
      clearTimeout(grace);
      await Promise.all(outcomes);
    },
  };
}
