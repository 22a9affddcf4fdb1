import net from "node:net";
import { Writable } from "node:stream";
import { loadConfig } from "../../../src/config.js";
import { GatewayMetrics, type SshRefusalReason } from "../../../src/metrics.js";
import { createLogger } from "../../../src/logger.js";
import { type SshServer, startSshServer } from "../../../src/ssh/ssh-server.js";
import { waitFor } from "../../support/wait-for.js";
import type { SshTestBed } from "./ssh-gateway.js";

/**
 * A second SSH server on a test bed's services, with settings of its own, its log lines kept and its metrics
 * apart, so a test can read what it refused and count the sockets it still holds.
 */
export interface OwnSshServer {
  server: SshServer;
  port: number;
  lines: Array<Record<string, unknown>>;
  /** sshverify_ssh_refusals_total by reason. */
  refusals(): Promise<Partial<Record<SshRefusalReason, number>>>;
  /** sshverify_ssh_connections_total by outcome. */
  outcomes(): Promise<Record<string, number>>;
  /** Waits until every socket the server accepted has closed. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnSshServer(bed: SshTestBed, environment: Record<string, string>): Promise<OwnSshServer> {
  const config = loadConfig({ SSH_PORT: "0", SSH_HOST: "127.0.0.1", LOG_LEVEL: "info", ...environment });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new GatewayMetrics({ processMetrics: false });
  const server = await startSshServer({
    config,
    logins: bed.gateway.services.sshLogins,
    hostKeys: bed.gateway.hostKeys,
    logger: createLogger("info", sink),
    metrics,
  });
  const counts = async (name: string, label: string) => {
    const metric = metrics.registry.getSingleMetric(name);
    const values = metric ? (await metric.get()).values : [];
    return Object.fromEntries(values.map((value) => [String(value.labels[label]), value.value]));
  };
  return {
    server,
    port: server.port,
    lines,
    refusals: () => counts("sshverify_ssh_refusals_total", "reason"),
    outcomes: () => counts("sshverify_ssh_connections_total", "outcome"),
    drained: async () => {
      await waitFor("the server to hold no socket", () => server.connections === 0, 30_000);
    },
    close: () => server.close(),
  };
}

/** A plain TCP connection that speaks only when told to. */
export interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent. */
  received(): Buffer;
  /** The server closed its side. */
  ended: Promise<void>;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** `keepOpen`: the client never closes its side, even after the server has closed its own. */
export async function connectRaw(port: number, options: { keepOpen?: boolean } = {}): Promise<RawConnection> {
  const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: options.keepOpen ?? false });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  const closedPromise = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  const ended = new Promise<void>((resolve) => {
    socket.once("end", resolve);
    socket.once("close", resolve);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => Buffer.concat(chunks), ended, closed: closedPromise, isClosed: () => closed };
}
