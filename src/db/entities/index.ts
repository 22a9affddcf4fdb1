import { ApiKey } from "./api-key.entity.js";
import { ConnectionKey } from "./connection-key.entity.js";
import { Connection } from "./connection.entity.js";
import { Project } from "./project.entity.js";
import { SessionKey } from "./session-key.entity.js";
import { Session } from "./session.entity.js";
import { SshHostKey } from "./ssh-host-key.entity.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { WebhookInvocation } from "./webhook-invocation.entity.js";
import { Webhook } from "./webhook.entity.js";

export {
  ApiKey,
  Connection,
  ConnectionKey,
  Project,
  Session,
  SessionKey,
  SshHostKey,
  Webhook,
  WebhookAttempt,
  WebhookInvocation,
};

export const ENTITIES = [
  ApiKey,
  Connection,
  ConnectionKey,
  Project,
  Session,
  SessionKey,
  SshHostKey,
  Webhook,
  WebhookAttempt,
  WebhookInvocation,
];
