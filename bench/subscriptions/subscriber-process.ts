import { type RawData, WebSocket } from "ws";
import type { DriverMessage, SubscriberMessage, SubscriptionRequest } from "./bench-messages.js";

/**
 * The subscribers, in a process of their own so the gateway's process does only the gateway's work. It speaks
 * graphql-transport-ws directly on `ws` sockets (what graphql-ws's client sends, without its bookkeeping) and
 * notes the arrival time of each result before parsing anything.
 */

/** Connections opened at once; the gateway's listen backlog is not the subject here. */
const OPENING_AT_ONCE = 200;

/** CLOCK_MONOTONIC in ms: the same clock in every process of the machine (timeOrigin is not: it is read at start). */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sockets: WebSocket[] = [];
let arrived: Array<[at: number, data: RawData]> = [];
let expected = 0;

function send(message: SubscriberMessage): void {
  process.send?.(message);
}

function reportIfComplete(): void {
  if (expected === 0 || arrived.length < expected) return;
  const batch = arrived.slice(0, expected);
  arrived = arrived.slice(expected);
  expected = 0;
  let errors = 0;
  const arrivals: Array<[string, number]> = [];
  for (const [at, data] of batch) {
    const message = JSON.parse(String(data)) as { type: string; payload?: { data?: Record<string, { session: { id: string } }>; errors?: unknown } };
    const result = message.payload?.data ? Object.values(message.payload.data)[0] : undefined;
    if (message.type !== "next" || message.payload?.errors || !result) errors++;
    else arrivals.push([result.session.id, at]);
  }
  send({ type: "received", arrivals, errors });
}

/** One connection: connection_init with the key, wait for the ack, then subscribe. */
function open(url: string, apiKey: string, subscriptions: Array<[id: string, request: SubscriptionRequest]>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    socket.once("error", reject);
    socket.once("close", (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
    socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { "x-api-key": apiKey } })));
    socket.once("message", (data) => {
      if (JSON.parse(String(data)).type !== "connection_ack") return reject(new Error(`no ack: ${String(data)}`));
      socket.on("message", (result) => {
        arrived.push([now(), result]);
        reportIfComplete();
      });
      for (const [id, payload] of subscriptions) socket.send(JSON.stringify({ id, type: "subscribe", payload }));
      sockets.push(socket);
      resolve();
    });
  });
}

async function openAll(message: Extract<DriverMessage, { type: "open" }>): Promise<void> {
  const perSocket: Array<Array<[string, SubscriptionRequest]>> = Array.from({ length: message.sockets }, () => []);
  message.subscriptions.forEach((request, index) => perSocket[index % message.sockets].push([String(index), request]));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(OPENING_AT_ONCE, message.sockets) }, async () => {
      while (next < perSocket.length) await open(message.url, message.apiKey, perSocket[next++]);
    }),
  );
  send({ type: "opened" });
}

process.on("message", (message: DriverMessage) => {
  if (message.type === "open") {
    openAll(message).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else if (message.type === "expect") {
    expected = message.count;
    reportIfComplete();
  } else {
    for (const socket of sockets.splice(0)) {
      socket.removeAllListeners("close");
      socket.close(1000);
    }
    arrived = [];
    send({ type: "closed" });
  }
});
