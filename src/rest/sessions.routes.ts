import { statusesOf, type SessionKind, type SessionStatus } from "../domain/session-rules.js";
import { renderPath } from "../domain/errors.js";
import { sessionRuleErrors } from "../services/session-input.js";
import type { SessionsService } from "../services/sessions.service.js";
import { type ErrorDetail, reportableValue } from "./problem-details.js";
import { LIST_PARAMETERS, listEnvelope, listPageOf } from "./list-envelope.js";
import type { ParameterSpec, RestOperation, RestRequest } from "./rest-operation.js";
import {
  renderSessionDetail,
  renderSessionSummary,
  type KeyBody,
  type SessionBody,
  type WebhookBody,
  toKeyInput,
  toSessionInput,
  toWebhookInput,
} from "./session-representation.js";

/** `Verify` or `Collect`: the prefix of this kind's schema names and operation ids. */
export function kindLabel(kind: SessionKind): "Verify" | "Collect" {
  return kind === "verify" ? "Verify" : "Collect";
}

/** `/api/v1/ssh/<kind>/sessions/`; routes of one session (webhooks too) live under `{session}/`. */
export function sessionsPath(kind: SessionKind): string {
  return `/api/v1/ssh/${kind}/sessions/`;
}

export function sessionPath(kind: SessionKind): string {
  return `${sessionsPath(kind)}{session}/`;
}

/** The `{session}` path parameter; a malformed id is a 422 at `path.session`, an unknown one a 404. */
export const SESSION_PARAMETER: ParameterSpec = {
  name: "session",
  in: "path",
  description: "The session's id.",
  schema: { type: "string", format: "uuid" },
};

/** Ids are issued in lowercase; reading them case-insensitively answers the same on SQLite and MariaDB. */
export function sessionIdOf(request: RestRequest): string {
  return String(request.parameters.session).toLowerCase();
}

function ruleErrorsOf(kind: SessionKind, validPart: Record<string, unknown>, mode: "create" | "update"): ErrorDetail[] {
  const { keys, webhooks, ...fields } = validPart as SessionBody & PartlyValidItems;
  const input = {
    ...toSessionInput(fields),
    keys: keys?.map((key) => (key === null ? null : toKeyInput(key))),
    webhooks: webhooks?.map((webhook) => (webhook === null ? null : toWebhookInput(webhook))),
  };
  return sessionRuleErrors(kind, input, mode, new Date()).map((error) => {
    const value = reportableValue(error.value);
    return { location: renderPath("body", error.path), message: error.message, ...(value === undefined ? {} : { value }) };
  });
}

/** Items with shape errors arrive as null (see the router's `ruleErrorsBeside`). */
interface PartlyValidItems {
  keys?: Array<KeyBody | null>;
  webhooks?: Array<WebhookBody | null>;
}

/** list, create, get, PATCH, DELETE and complete for one session kind (SPEC §4). */
export function sessionOperations(kind: SessionKind, sessions: SessionsService): RestOperation[] {
  const label = kindLabel(kind);
  const tag = `${label} sessions`;
  const detail = `${label}SessionDetail`;
  const answer = (status: number, session: Parameters<typeof renderSessionDetail>[1]) => ({
    status,
    schema: detail,
    body: renderSessionDetail(kind, session),
  });

  return [
    {
      method: "get",
      path: sessionsPath(kind),
      operationId: `list${label}Sessions`,
      summary: `List ${kind} sessions, newest first`,
      tag,
      parameters: [
        ...LIST_PARAMETERS,
        {
          name: "status",
          in: "query",
          description: "Only sessions with this status.",
          schema: { type: "string", enum: [...statusesOf(kind)] },
        },
        {
          name: "external_id",
          in: "query",
          description: "Only sessions with this external_id.",
          schema: { type: "string", maxLength: 255 },
        },
      ],
      responses: [{ status: 200, description: "One page of sessions.", schema: `${label}SessionList` }],
      handle: async (request) => {
        const page = listPageOf(request.parameters);
        const filter = {
          status: request.parameters.status as SessionStatus | undefined,
          externalId: request.parameters.external_id as string | undefined,
        };
        const { items, total } = await sessions.list(request.context, kind, filter, page);
        const summaries = items.map((session) => renderSessionSummary(kind, session));
        return { status: 200, schema: `${label}SessionList`, body: listEnvelope(summaries, total, page) };
      },
    },
    {
      method: "post",
      path: sessionsPath(kind),
      operationId: `create${label}Session`,
      summary: `Create a ${kind} session`,
      tag,
      requestBody: { schema: `${label}SessionCreate`, required: kind === "verify" },
      responses: [{ status: 201, description: "The new session; webhook secrets are shown this once.", schema: detail }],
      ruleErrors: (validPart) => ruleErrorsOf(kind, validPart, "create"),
      handle: async (request) =>
        answer(201, await sessions.create(request.context, kind, toSessionInput(request.body as SessionBody))),
    },
    {
      method: "get",
      path: sessionPath(kind),
      operationId: `get${label}Session`,
      summary: `Get a ${kind} session`,
      tag,
      parameters: [SESSION_PARAMETER],
      responses: [{ status: 200, description: "The session.", schema: detail }],
      handle: async (request) => answer(200, await sessions.get(request.context, kind, sessionIdOf(request))),
    },
    {
      method: "patch",
      path: sessionPath(kind),
      operationId: `update${label}Session`,
      summary: `Change a ${kind} session (JSON merge patch)`,
      tag,
      parameters: [SESSION_PARAMETER],
      requestBody: {
        schema: `${label}SessionUpdate`,
        required: true,
        description: "Absent fields stay; null resets a field to its default; `timeout` counts from now.",
      },
      responses: [{ status: 200, description: "The changed session.", schema: detail }],
      errorStatuses: [409],
      ruleErrors: (validPart) => ruleErrorsOf(kind, validPart, "update"),
      handle: async (request) => {
        const input = toSessionInput(request.body as SessionBody);
        return answer(200, await sessions.update(request.context, kind, sessionIdOf(request), input));
      },
    },
    {
      method: "delete",
      path: sessionPath(kind),
      operationId: `delete${label}Session`,
      summary: `Delete a ${kind} session with its connections, keys, webhooks and pending deliveries`,
      tag,
      parameters: [SESSION_PARAMETER],
      responses: [{ status: 204, description: "Deleted." }],
      handle: async (request) => {
        await sessions.delete(request.context, kind, sessionIdOf(request));
        return { status: 204 };
      },
    },
    {
      method: "post",
      path: `${sessionPath(kind)}complete/`,
      operationId: `complete${label}Session`,
      summary: `Close a pending multi_connection ${kind} session`,
      tag,
      parameters: [SESSION_PARAMETER],
      responses: [{ status: 200, description: "The completed session.", schema: detail }],
      errorStatuses: [409],
      handle: async (request) => answer(200, await sessions.complete(request.context, kind, sessionIdOf(request))),
    },
  ];
}
