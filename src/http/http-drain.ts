import type http from "node:http";
import type { Socket } from "node:net";

/** How often idle keep-alive connections are looked for while draining. */
const IDLE_SWEEP_MS = 50;

export interface HttpDrain {
  /**
   * Stops accepting, closes idle keep-alive connections (also those that become idle as their request
   * finishes), lets requests in flight finish until `graceMs`, then destroys whatever is left.
   */
  drain(graceMs: number): Promise<void>;
}

/**
 * Tracks every socket of the server from the start: upgraded (WebSocket) sockets leave Node's own HTTP
 * bookkeeping, so `closeAllConnections` alone would let one open WebSocket hold the shutdown forever.
 */
export function trackHttpConnections(server: http.Server): HttpDrain {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    drain: async (graceMs) => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const deadline = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(deadline);
      }
    },
  };
}
