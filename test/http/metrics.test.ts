import { describe, expect, it } from "vitest";
import { routeLabel } from "../../src/http/metrics.js";
import { GatewayMetrics } from "../../src/metrics.js";

/** The value of one sample line, e.g. `name{label="x"} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("gateway metrics", () => {
  it("publishes every named metric family in the Prometheus text format", async () => {
    const text = await new GatewayMetrics().render();
    for (const family of [
      "sshverify_http_requests_total counter",
      "sshverify_http_request_duration_seconds histogram",
      "sshverify_ssh_connections_total counter",
      "sshverify_verification_duration_seconds histogram",
      "sshverify_webhook_deliveries_total counter",
      "sshverify_subscriptions_open gauge",
      "sshverify_process_cpu_user_seconds_total counter",
    ]) {
      expect(text).toContain(`# TYPE ${family}`);
    }
    // Series that alerts divide by exist from the start, at zero.
    expect(sample(text, 'sshverify_ssh_connections_total{outcome="refused"}')).toBe(0);
    expect(sample(text, 'sshverify_webhook_deliveries_total{result="failed"}')).toBe(0);
  });

  it("counts HTTP requests by method, route and status, SSH outcomes, verifications and deliveries", async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.recordHttpRequest("GET", "/api/v1/verify-sessions/:id", 200, 0.01);
    metrics.recordHttpRequest("GET", "/api/v1/verify-sessions/:id", 200, 0.02);
    metrics.recordHttpRequest("POST", "/graphql", 429, 0.001);
    metrics.recordSshConnection("satisfied");
    metrics.recordSshConnection("refused");
    metrics.recordSshConnection("refused");
    metrics.recordVerification("verify", "satisfied", 0.3);
    metrics.recordWebhookDelivery("succeeded");

    const text = await metrics.render();
    expect(sample(text, 'sshverify_http_requests_total{method="GET",route="/api/v1/verify-sessions/:id",status="200"}')).toBe(2);
    expect(sample(text, 'sshverify_http_requests_total{method="POST",route="/graphql",status="429"}')).toBe(1);
    expect(sample(text, 'sshverify_ssh_connections_total{outcome="satisfied"}')).toBe(1);
    expect(sample(text, 'sshverify_ssh_connections_total{outcome="refused"}')).toBe(2);
    expect(sample(text, 'sshverify_verification_duration_seconds_count{kind="verify",outcome="satisfied"}')).toBe(1);
    expect(sample(text, 'sshverify_verification_duration_seconds_bucket{le="0.5",kind="verify",outcome="satisfied"}')).toBe(1);
    expect(sample(text, 'sshverify_webhook_deliveries_total{result="succeeded"}')).toBe(1);
  });

  it("tracks open subscriptions; closing one twice counts once", async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const closeFirst = metrics.subscriptionOpened();
    metrics.subscriptionOpened();
    closeFirst();
    closeFirst();
    expect(sample(await metrics.render(), "sshverify_subscriptions_open")).toBe(1);
  });

  it("keeps each gateway's counts apart (no global registry)", async () => {
    const first = new GatewayMetrics({ processMetrics: false });
    const second = new GatewayMetrics({ processMetrics: false });
    first.recordSshConnection("timeout");
    expect(sample(await first.render(), 'sshverify_ssh_connections_total{outcome="timeout"}')).toBe(1);
    expect(sample(await second.render(), 'sshverify_ssh_connections_total{outcome="timeout"}')).toBeUndefined();
  });

  it("labels a request by its route pattern, so ids do not multiply the series", () => {
    expect(routeLabel({ path: "/api/v1/verify-sessions/0190", _matchedRoute: "/api/v1/verify-sessions/:id" })).toBe(
      "/api/v1/verify-sessions/:id",
    );
    expect(routeLabel({ path: "/graphql" })).toBe("/graphql");
    expect(routeLabel({ path: "/docs/swagger-ui.css" })).toBe("/docs");
    expect(routeLabel({ path: "/schemas/VerifySession.json" })).toBe("/schemas/*");
    expect(routeLabel({ path: "/wp-admin/setup.php" })).toBe("unmatched");
  });
});
