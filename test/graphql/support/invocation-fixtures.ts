import type { TestGateway } from "../../support/gateway.js";
import { ed25519KeyLine, recordConnection } from "../../support/ssh-activity.js";

/**
 * `times` connections to a collect session, each proving `keysEach` new keys: a `new_connection` event per
 * connection and a `key_collected` per key, so one invocation per webhook and event. The keys of one connection
 * are proven in one transaction, so their invocations share a millisecond.
 */
export async function connectTimes(gateway: TestGateway, sessionId: string, times: number, keysEach = 0): Promise<void> {
  for (let index = 0; index < times; index++) {
    const keys = Array.from({ length: keysEach }, () => ({ keyLine: ed25519KeyLine(), sessionKeyId: null }));
    await recordConnection(gateway.services, sessionId, keys);
  }
}

/** REST's listing of one webhook's invocations, the reference order: newest first, ties in the millisecond by id. */
export async function restInvocationIds(gateway: TestGateway, sessionId: string, webhookId: string): Promise<string[]> {
  const response = await gateway.request("GET", `/api/v1/ssh/collect/sessions/${sessionId}/webhooks/${webhookId}/invocations/?limit=100`);
  return response.json.items.map((item: { id: string }) => item.id);
}
