import { randomUUID } from "node:crypto";
import net, { type AddressInfo, type Socket } from "node:net";
import ssh2, { type Connection, type KexAlgorithm, type ParsedKey } from "ssh2";
import type { Config } from "../config.js";
import type { GatewayMetrics } from "../http/metrics.js";
import type { Logger } from "../logger.js";
import type { HostKey } from "../services/host-keys.service.js";
import type { SshLoginsService } from "../services/ssh-logins.service.js";
import { connectionOutcomeOf, type ServerEnding } from "./connection-outcome.js";
import { serveConnection } from "./ssh-connection.js";
import { clientAddressOf, ConnectionDeadlines, SocketAdmission } from "./socket-admission.js";
import { parseSigningKey } from "./signing-key.js";
import { coalesceWrites } from "./socket-writes.js";
import { socketOf } from "./ssh2-internals.js";

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

export interface SshServer {
  readonly port: number;
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
  const accepted = new Map<
    Socket,
    { ipAddress: string; log: Logger; deadlines: ConnectionDeadlines; connection?: Connection; endedBy: ServerEnding | null }
  >();
  /** Connections whose outcome (a failed attempt at disconnect) is still being recorded. */
  const outcomes = new Set<Promise<void>>();

  const listener = net.createServer({ noDelay: true }, (socket) => {
    const ipAddress = clientAddressOf(socket);
    // Every line about this TCP connection carries its id, from accept to the recorded outcome.
    const log = logger.child({ connectionId: randomUUID() });
    socket.on("error", () => socket.destroy());
    if (!admission.admit(ipAddress)) {
      log.warn({ ip: ipAddress }, "SSH connection refused: connection cap reached");
      metrics.recordSshConnection("rejected_limit");
      socket.destroy();
      return;
    }
    socket.once("close", () => {
      admission.release(ipAddress);
      const entry = accepted.get(socket);
      entry?.deadlines.clear();
      accepted.delete(socket);
      // A connection that got as far as SSH is counted with its result, once its outcome is recorded.
      if (entry && !entry.connection) metrics.recordSshConnection(entry.endedBy ?? "disconnected");
    });
    coalesceWrites(socket);
    protocol.injectSocket(socket);
    // After the hand-over: ssh2 has paused the socket, so this listener takes no bytes away from it.
    const deadlines = new ConnectionDeadlines(
      socket,
      { loginGraceMs: config.sshLoginGraceSeconds * 1000, idleMs: config.sshIdleTimeoutSeconds * 1000 },
      (deadline) => {
        log.info({ ip: ipAddress, deadline }, "SSH connection closed: deadline passed");
        const entry = accepted.get(socket);
        if (entry) entry.endedBy = "timeout";
        const connection = entry?.connection;
        if (connection) connection.end();
        socket.destroy();
      },
    );
    accepted.set(socket, { ipAddress, log, deadlines, endedBy: null });
  });

  protocol.on("connection", (connection, info) => {
    const entry = accepted.get(socketOf(connection));
    if (!entry) return connection.end();
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
    close: async (graceMs = 0) => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      if (accepted.size > 0 && graceMs > 0) {
        // A verification in progress may finish, within the bound; the listener takes no new ones meanwhile.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
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
