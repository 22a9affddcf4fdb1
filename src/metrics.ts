import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SessionKind } from "./domain/session-rules.js";

/** How one SSH connection ended, as the SSH server reports it; a closed set keeps the label bounded. */
export type SshConnectionOutcome =
  | "satisfied"
  | "not_satisfied"
  | "refused"
  | "rejected_limit"
  | "rejected_proxy"
  | "timeout"
  | "disconnected"
  | "shutdown"
  | "error";

/** Why the SSH server refused a connection or a step of it: the caps and deadlines of SPEC §3, the PROXY protocol, pipelined authentication. */
export type SshRefusalReason =
  | "connection_cap"
  | "address_cap"
  | "login_deadline"
  | "idle_timeout"
  | "confirm_timeout"
  | "key_offer_cap"
  | "pipelined_auth"
  | "proxy_header";

/** What one webhook delivery attempt came to. */
export type WebhookDeliveryResult = "succeeded" | "failed";

/** Whether the keys a connection proved satisfied its session. */
export type VerificationOutcome = "satisfied" | "not_satisfied";

/**
 * The gateway's Prometheus metrics in a registry of its own (never prom-client's global one), so several
 * gateways in one process (the tests) keep separate counts. Adapters record through the typed methods.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: "sshverify_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "sshverify_http_request_duration_seconds",
    help: "HTTP request duration in seconds by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly sshConnections = new Counter({
    name: "sshverify_ssh_connections_total",
    help: "SSH connections by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  private readonly sshRefusals = new Counter({
    name: "sshverify_ssh_refusals_total",
    help: "SSH connections or steps refused by a cap, a deadline, the PROXY protocol or pipelined authentication, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  private readonly verificationDuration = new Histogram({
    name: "sshverify_verification_duration_seconds",
    help: "Seconds from an SSH connection's start to its recorded proof, by session kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly webhookDeliveries = new Counter({
    name: "sshverify_webhook_deliveries_total",
    help: "Webhook delivery attempts by result",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  private readonly openSubscriptions = new Gauge({
    name: "sshverify_subscriptions_open",
    help: "GraphQL subscriptions currently open",
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "sshverify_" });
    for (const outcome of ["satisfied", "not_satisfied", "refused"] as const) this.sshConnections.inc({ outcome }, 0);
    for (const result of ["succeeded", "failed"] as const) this.webhookDeliveries.inc({ result }, 0);
  }

  recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  recordSshConnection(outcome: SshConnectionOutcome): void {
    this.sshConnections.inc({ outcome });
  }

  recordSshRefusal(reason: SshRefusalReason): void {
    this.sshRefusals.inc({ reason });
  }

  recordVerification(kind: SessionKind, outcome: VerificationOutcome, seconds: number): void {
    this.verificationDuration.observe({ kind, outcome }, seconds);
  }

  recordWebhookDelivery(result: WebhookDeliveryResult): void {
    this.webhookDeliveries.inc({ result });
  }

  /** Counts a subscription as open; call the returned function when it ends (extra calls do nothing). */
  subscriptionOpened(): () => void {
    this.openSubscriptions.inc();
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.openSubscriptions.dec();
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
