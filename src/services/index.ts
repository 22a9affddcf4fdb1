import type { Database } from "../db/database.js";
import { ApiKeysService } from "./api-keys.service.js";
import { HostKeysService } from "./host-keys.service.js";
import type { GatewayPubSub } from "./pubsub.js";
import { SessionEvents } from "./session-events.js";
import { SessionsService, type WebhookTargetCheck } from "./sessions.service.js";
import { SshLoginsService } from "./ssh-logins.service.js";
import { WebhookDeliveriesService } from "./webhook-deliveries.service.js";
import { WebhooksService } from "./webhooks.service.js";

/** Every use-case of the gateway; the adapters (REST, GraphQL, SSH) only ever call these. */
export interface Services {
  readonly database: Database;
  readonly pubSub: GatewayPubSub;
  readonly apiKeys: ApiKeysService;
  readonly hostKeys: HostKeysService;
  readonly sessions: SessionsService;
  readonly sshLogins: SshLoginsService;
  readonly events: SessionEvents;
  readonly webhooks: WebhooksService;
  readonly webhookDeliveries: WebhookDeliveriesService;
}

/** `checkWebhookTarget` says why a webhook URL may not be used (the SSRF policy lives with the webhook worker). */
export function createServices(database: Database, pubSub: GatewayPubSub, checkWebhookTarget: WebhookTargetCheck): Services {
  const webhookDeliveries = new WebhookDeliveriesService(database);
  const events = new SessionEvents(pubSub, () => webhookDeliveries.announceDue());
  return {
    database,
    pubSub,
    events,
    apiKeys: new ApiKeysService(database, pubSub),
    hostKeys: new HostKeysService(database),
    sessions: new SessionsService(database, events, checkWebhookTarget),
    sshLogins: new SshLoginsService(database, events),
    webhooks: new WebhooksService(database, webhookDeliveries, checkWebhookTarget),
    webhookDeliveries,
  };
}
