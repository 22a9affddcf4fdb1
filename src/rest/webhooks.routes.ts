import { renderPath } from "../domain/errors.js";
import type { SessionKind } from "../domain/session-rules.js";
import { webhookErrors, withWebhookDefaults } from "../domain/webhook-rules.js";
import type { WebhookChanges, WebhooksService } from "../services/webhooks.service.js";
import type { WebhookInvocationView } from "../services/webhook-views.js";
import { LIST_PARAMETERS, listEnvelope, listPageOf } from "./list-envelope.js";
import { type ErrorDetail, reportableValue } from "./problem-details.js";
import type { ParameterSpec, RestOperation, RestRequest } from "./rest-operation.js";
import { optionalTime, renderWebhook, type WebhookBody } from "./session-representation.js";
import { kindLabel, SESSION_PARAMETER, sessionIdOf, sessionPath } from "./sessions.routes.js";

const WEBHOOK_PARAMETER: ParameterSpec = {
  name: "webhook",
  in: "path",
  description: "The webhook's id.",
  schema: { type: "string", format: "uuid" },
};

const INVOCATION_PARAMETER: ParameterSpec = {
  name: "invocation",
  in: "path",
  description: "The invocation's id (`webhook_invocation_id`).",
  schema: { type: "string", format: "uuid" },
};

/** A webhook update body: absent stays as it is, null restores the default. */
type WebhookUpdateBody = { [Field in keyof WebhookBody]?: WebhookBody[Field] | null };

function toWebhookChanges(body: WebhookUpdateBody): WebhookChanges {
  return {
    url: body.url,
    method: body.method,
    headers: body.headers,
    events: body.events,
    retries: body.retries,
    initialBackoff: body.initial_backoff,
    backoffMultiplier: body.backoff_multiplier,
  };
}


/** The webhook rules on the fields a partly valid body gives (absent fields are not judged), for one 422. */
function webhookRuleErrors(kind: SessionKind, validPart: Record<string, unknown>): ErrorDetail[] {
  const given = Object.entries(toWebhookChanges(validPart as WebhookUpdateBody)).filter(([, value]) => value != null);
  return webhookErrors(withWebhookDefaults(Object.fromEntries(given)), kind, [])
    .filter((error) => String(error.path[0]) in validPart)
    .map((error) => {
      const value = reportableValue(error.value);
      return { location: renderPath("body", error.path), message: error.message, ...(value === undefined ? {} : { value }) };
    });
}

export function renderInvocation(invocation: WebhookInvocationView): Record<string, unknown> {
  return {
    id: invocation.id,
    event: invocation.event,
    status: invocation.status,
    trigger_time: invocation.triggerTime.toISOString(),
    attempts: invocation.attempts.map((attempt) => ({
      attempt: attempt.attempt,
      request_time: attempt.requestTime.toISOString(),
      response_status: attempt.responseStatus,
      response_body: attempt.responseBody,
      error: attempt.error,
    })),
    next_attempt_at: optionalTime(invocation.nextAttemptAt),
  };
}

/** Ids are issued in lowercase; read case-insensitively, as session ids are. */
const idOf = (request: RestRequest, name: string) => String(request.parameters[name]).toLowerCase();

/** A session's webhooks, their invocations and the retry of one (SPEC §4), for one session kind. */
export function webhookOperations(kind: SessionKind, webhooks: WebhooksService): RestOperation[] {
  const label = kindLabel(kind);
  const tag = `${label} session webhooks`;
  const collectionPath = `${sessionPath(kind)}webhooks/`;
  const webhookPath = `${collectionPath}{webhook}/`;
  const scopeOf = (request: RestRequest) => ({ sessionId: sessionIdOf(request), kind });
  const webhookParameters = [SESSION_PARAMETER, WEBHOOK_PARAMETER];

  const update = (method: "put" | "patch"): RestOperation => ({
    method,
    path: webhookPath,
    operationId: `${method === "put" ? "replace" : "update"}${label}SessionWebhook`,
    summary: `Change a webhook of a ${kind} session (${method.toUpperCase()}: only the fields given change)`,
    tag,
    parameters: webhookParameters,
    requestBody: { schema: "WebhookUpdate", required: true, description: "Absent fields stay; null restores a field's default." },
    responses: [{ status: 200, description: "The changed webhook.", schema: "Webhook" }],
    ruleErrors: (validPart) => webhookRuleErrors(kind, validPart),
    handle: async (request) => {
      const changes = toWebhookChanges(request.body as WebhookUpdateBody);
      const webhook = await webhooks.update(request.context, idOf(request, "webhook"), changes, scopeOf(request));
      return { status: 200, schema: "Webhook", body: renderWebhook(webhook) };
    },
  });

  return [
    {
      method: "get",
      path: collectionPath,
      operationId: `list${label}SessionWebhooks`,
      summary: `List the webhooks of a ${kind} session, newest first`,
      tag,
      parameters: [SESSION_PARAMETER, ...LIST_PARAMETERS],
      responses: [{ status: 200, description: "One page of webhooks.", schema: "WebhookList" }],
      handle: async (request) => {
        const page = listPageOf(request.parameters);
        const { items, total } = await webhooks.list(request.context, kind, sessionIdOf(request), page);
        return { status: 200, schema: "WebhookList", body: listEnvelope(items.map(renderWebhook), total, page) };
      },
    },
    {
      method: "post",
      path: collectionPath,
      operationId: `create${label}SessionWebhook`,
      summary: `Add a webhook to a ${kind} session`,
      tag,
      parameters: [SESSION_PARAMETER],
      requestBody: { schema: "WebhookCreate", required: true },
      responses: [{ status: 201, description: "The new webhook with its signing secret, shown this once.", schema: "Webhook" }],
      errorStatuses: [409],
      ruleErrors: (validPart) => webhookRuleErrors(kind, validPart),
      handle: async (request) => {
        const input = toWebhookChanges(request.body as WebhookBody);
        const webhook = await webhooks.create(request.context, sessionIdOf(request), input, kind);
        return { status: 201, schema: "Webhook", body: renderWebhook(webhook) };
      },
    },
    {
      method: "get",
      path: webhookPath,
      operationId: `get${label}SessionWebhook`,
      summary: `Get a webhook of a ${kind} session`,
      tag,
      parameters: webhookParameters,
      responses: [{ status: 200, description: "The webhook (`secret` is null).", schema: "Webhook" }],
      handle: async (request) => {
        const webhook = await webhooks.get(request.context, idOf(request, "webhook"), scopeOf(request));
        return { status: 200, schema: "Webhook", body: renderWebhook(webhook) };
      },
    },
    update("put"),
    update("patch"),
    {
      method: "delete",
      path: webhookPath,
      operationId: `delete${label}SessionWebhook`,
      summary: `Delete a webhook of a ${kind} session with its invocations`,
      tag,
      parameters: webhookParameters,
      responses: [{ status: 204, description: "Deleted." }],
      handle: async (request) => {
        await webhooks.delete(request.context, idOf(request, "webhook"), scopeOf(request));
        return { status: 204 };
      },
    },
    {
      method: "get",
      path: `${webhookPath}invocations/`,
      operationId: `list${label}SessionWebhookInvocations`,
      summary: `List the invocations of a webhook of a ${kind} session, newest first`,
      tag,
      parameters: [...webhookParameters, ...LIST_PARAMETERS],
      responses: [{ status: 200, description: "One page of invocations with their attempts.", schema: "WebhookInvocationList" }],
      handle: async (request) => {
        const page = listPageOf(request.parameters);
        const { items, total } = await webhooks.invocations(request.context, idOf(request, "webhook"), page, scopeOf(request));
        return { status: 200, schema: "WebhookInvocationList", body: listEnvelope(items.map(renderInvocation), total, page) };
      },
    },
    {
      method: "post",
      path: `${webhookPath}invocations/{invocation}/retry/`,
      operationId: `retry${label}SessionWebhookInvocation`,
      summary: `Deliver an invocation of a webhook of a ${kind} session again, now`,
      tag,
      parameters: [...webhookParameters, INVOCATION_PARAMETER],
      responses: [{ status: 202, description: "Accepted: the invocation is due now.", schema: "WebhookInvocation" }],
      handle: async (request) => {
        const scope = { ...scopeOf(request), webhookId: idOf(request, "webhook") };
        const invocation = await webhooks.retry(request.context, idOf(request, "invocation"), scope);
        return { status: 202, schema: "WebhookInvocation", body: renderInvocation(invocation) };
      },
    },
  ];
}
