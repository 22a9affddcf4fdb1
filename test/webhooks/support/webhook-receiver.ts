import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body (the webhook envelope). */
  json: any;
  receivedAt: Date;
}

/** How to answer a request: a status (and body), after `delayMs` if given, or never (the connection hangs until the receiver stops). */
export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | "hang";

export type Responder = (request: ReceivedRequest, index: number) => Reply;

/** A real HTTP server on 127.0.0.1 that records every webhook request and answers as the test says. */
export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  private readonly waiters = new Set<() => void>();
  private responder: Responder;

  private constructor(
    private readonly server: http.Server,
    responder: Responder,
  ) {
    this.responder = responder;
  }

  static async start(responder: Responder = () => ({ status: 204 })): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server, responder);
    server.on("request", (request, response) => receiver.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = "/hook", host = "127.0.0.1"): string {
    return `http://${host}:${this.port}${path}`;
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  /** Requests whose envelope carries this invocation id. */
  forInvocation(invocationId: string): ReceivedRequest[] {
    return this.received.filter((request) => request.json?.webhook_invocation_id === invocationId);
  }

  /** Resolves once `done(received)` holds; rejects with what arrived when `timeoutMs` passes first. */
  async waitFor(done: (received: ReceivedRequest[]) => boolean, timeoutMs = 20_000): Promise<ReceivedRequest[]> {
    if (done(this.received)) return this.received;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.received)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.received);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.received.map((request) => `${request.json?.event} #${request.json?.attempt}`).join(", ");
        reject(new Error(`the receiver did not get the expected requests within ${timeoutMs} ms; got: [${seen}]`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const received: ReceivedRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body,
        json,
        receivedAt: new Date(),
      };
      const index = this.received.push(received) - 1;
      const reply = this.responder(received, index);
      if (reply !== "hang") {
        const answer = () => {
          response.writeHead(reply.status, reply.headers);
          response.end(reply.body ?? "");
        };
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      }
      for (const waiter of [...this.waiters]) waiter();
    });
  }
}
