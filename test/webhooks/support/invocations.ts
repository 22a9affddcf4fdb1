import type { RequestContext } from "../../../src/services/context.js";
import type { WebhookInvocationView } from "../../../src/services/webhook-views.js";
import type { TestGateway } from "../../support/gateway.js";

/** Polls a webhook's invocations until `done` holds for them; fails with what it last saw after `timeoutMs`. */
export async function waitForInvocations(
  gateway: TestGateway,
  context: RequestContext,
  webhookId: string,
  done: (invocations: WebhookInvocationView[]) => boolean,
  timeoutMs = 20_000,
): Promise<WebhookInvocationView[]> {
  const deadline = Date.now() + timeoutMs;
  let invocations: WebhookInvocationView[] = [];
  while (Date.now() < deadline) {
    ({ items: invocations } = await gateway.services.webhooks.invocations(context, webhookId, { offset: 0, limit: 100 }));
    if (done(invocations)) return invocations;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`invocations did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(invocations, null, 2)}`);
}

export const settled = (invocation: WebhookInvocationView) => invocation.status !== "pending";
