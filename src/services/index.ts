import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import { webhookTargetProblem } from "../webhooks/address-guard.js";
import { ApiKeysService } from "./api-keys.service.js";
import { HostKeysService } from "./host-keys.service.js";
import type { GatewayPubSub } from "./pubsub.js";
import { SessionEvents } from "./session-events.js";
import { SessionsService } from "./sessions.service.js";
import { SshLoginsService } from "./ssh-logins.service.js";

/** Every use-case of the gateway; the adapters (REST, GraphQL, SSH) only ever call these. */
export interface Services {
  readonly database: Database;
  readonly pubSub: GatewayPubSub;
  readonly apiKeys: ApiKeysService;
  readonly hostKeys: HostKeysService;
  readonly sessions: SessionsService;
  readonly sshLogins: SshLoginsService;
  readonly events: SessionEvents;
}

export function createServices(database: Database, config: Config, pubSub: GatewayPubSub): Services {
  const events = new SessionEvents(pubSub);
  return {
    database,
    pubSub,
    events,
    apiKeys: new ApiKeysService(database),
    hostKeys: new HostKeysService(database),
    sessions: new SessionsService(database, events, (url) => webhookTargetProblem(url, config.webhookAllowPrivate)),
    sshLogins: new SshLoginsService(database, events),
  };
}
