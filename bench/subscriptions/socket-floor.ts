import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { now, type Target } from "./subscribers.js";

/**
 * The floor under any fan-out: a plain ws server that acknowledges graphql-transport-ws connections and, per
 * event, writes one prepared `next` message (the size of the gateway's) to every subscription. What the gateway
 * adds on top of this is its own cost; the rest is the cost of the sockets.
 */
export async function startSocketFloor(): Promise<Target & { stop(): Promise<void> }> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const subscriptions: Array<{ socket: WebSocket; id: string }> = [];
  server.on("connection", (socket) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string };
      if (message.type === "connection_init") socket.send(JSON.stringify({ type: "connection_ack" }));
      if (message.type === "subscribe" && message.id) subscriptions.push({ socket, id: message.id });
    });
  });
  const payload = (sessionId: string) =>
    JSON.stringify({
      data: {
        verifySessionStatusChanged: {
          previousStatus: "PENDING",
          status: "FAILED",
          changedAt: new Date().toISOString(),
          session: {
            id: sessionId,
            status: "FAILED",
            connectionIdentifier: "abcdefghijklmnopqrstuvwxyzabcdefgh",
            sshCommand: "ssh -p 2222 abcdefghijklmnopqrstuvwxyzabcdefgh@127.0.0.1",
            createdAt: new Date().toISOString(),
            keys: [{ publicKeySha256: "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", verifiedAt: null }],
            connections: [],
          },
        },
      },
    });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey: "none",
    live: async () => subscriptions.length,
    groups: () => 0,
    trigger: async (sessionId) => {
      const publishedAt = now();
      const serialized = payload(sessionId);
      for (const { socket, id } of subscriptions) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${serialized}}`);
      return { publishedAt, callMs: 0 };
    },
    stop: () => {
      for (const socket of server.clients) socket.terminate();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
