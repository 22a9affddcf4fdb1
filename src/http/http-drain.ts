import type http from "node:http";
import type { Socket } from "node:net";

/** How often idle keep-alive connections are looked for while draining. */
const IDLE_SWEEP_MS = 50;

/**
 * Shutdown of the HTTP listener in steps, so WebSocket subscribers can be closed cleanly in between:
 * stop accepting -> wait for requests in flight -> close whatever is left.
 */
export interface HttpDrain {
  /** No new connections; idle keep-alive connections are closed now and as they become idle. */
  stopAccepting(): void;
  /** Resolves when no request is in flight, or when `graceMs` has passed. */
  requestsFinished(graceMs: number): Promise<void>;
  /** Closes every connection still open (WebSocket ones too) and resolves once the server is closed. */
  close(): Promise<void>;
}

/**
 * Tracks the server's requests and sockets from the start. Upgraded (WebSocket) sockets leave Node's own
 * HTTP bookkeeping, so `closeAllConnections` alone would let one open WebSocket hold the shutdown forever.
 */
export function trackHttpConnections(server: http.Server): HttpDrain {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  let closed: Promise<void> | null = null;
  let sweep: NodeJS.Timeout | undefined;

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (_request, response: http.ServerResponse) => {
    inFlight++;
    response.once("close", () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });

  const stopAccepting = () => {
    if (closed) return;
    closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server.closeIdleConnections();
    sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  };

  return {
    stopAccepting,
    requestsFinished: async (graceMs) => {
      if (inFlight === 0) return;
      let deadline: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        deadline = setTimeout(resolve, graceMs);
      });
      onIdle = null;
      clearTimeout(deadline);
    },
    close: async () => {
      stopAccepting();
      clearInterval(sweep);
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
