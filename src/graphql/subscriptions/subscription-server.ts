import type { IncomingMessage, Server as HttpServer } from "node:http";
import {
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  OperationTypeNode,
} from "graphql";
import { CloseCode, type SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { type WebSocket, WebSocketServer } from "ws";
import { DomainError } from "../../domain/errors.js";
import type { Logger } from "../../logger.js";
import type { Services } from "../../services/index.js";
import { createErrorFormatter, toGraphqlError } from "../errors.js";
import type { GraphqlContext } from "../graphql-context.js";
import { GRAPHQL_PATH, type GraphqlServer, MAX_QUERY_TOKENS } from "../graphql-server.js";
import { checkQueryCost, depthLimitRule } from "../query-limits.js";
import { ApiKeySockets, UNAUTHORIZED_CLOSE_CODE } from "./api-key-sockets.js";
import type { Recipient } from "./fan-out-subscriber.js";
import { SubscriptionFanOut } from "./subscription-fan-out.js";
import { settleWithin } from "../../timeouts.js";

/** A subscribe message is at most this large, as an HTTP body is. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Each subscription holds a queue and a place in a group; one connection cannot hold more. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 1_000;

export interface SubscriptionDependencies {
  httpServer: HttpServer;
  graphql: Pick<GraphqlServer, "schema" | "createContext">;
  services: Services;
  logger: Logger;
  /** RATE_LIMIT_PER_MINUTE: each subscribe counts as one operation of the caller's project. */
  limitRate(projectId: string): Promise<void>;
  /** Counts one subscription as open (the `sshverify_subscriptions_open` gauge); the returned function closes it. */
  subscriptionOpened(): () => void;
  /** How often the keys of open connections are re-checked; tests shorten it. */
  keyRecheckMs?: number;
}

export interface SubscriptionServer {
  /** Distinct executions per event across all subscriptions (equal subscriptions share one). */
  readonly groupCount: number;
  /** Closes every connection with 1001 "Going away", waiting at most `graceMs` for clients to answer. */
  drain(graceMs: number): Promise<void>;
}

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_REQUEST" } });

/** The code Apollo gives the same failure over HTTP, unless the error names its own. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code) return error;
  const { nodes, source, positions } = error;
  return new GraphQLError(error.message, { nodes, source, positions, extensions: { ...error.extensions, code } });
}

/** The host the client reached the API under, shown in `sshCommand` unless PUBLIC_SSH_HOST is set (as over HTTP). */
function requestHost(request: IncomingMessage): string {
  try {
    return new URL(`http://${request.headers.host ?? "localhost"}`).hostname;
  } catch {
    return "localhost";
  }
}

/** Everything the result of an event depends on besides the event: subscriptions with equal keys share executions. */
function groupKey(context: GraphqlContext, host: string, payload: SubscribePayload): string {
  return JSON.stringify([context.caller.projectId, host, payload.operationName ?? null, payload.variables ?? {}, payload.query]);
}

/** The checks an HTTP operation passes, in the same order: parse (token cap), validate (depth), cost, rate limit. */
async function prepare(
  schema: GraphqlServer["schema"],
  context: GraphqlContext,
  payload: SubscribePayload,
  limitRate: SubscriptionDependencies["limitRate"],
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: MAX_QUERY_TOKENS });
  } catch (error) {
    return [error instanceof GraphQLError ? withCode(error, "GRAPHQL_PARSE_FAILED") : badRequest(String(error))];
  }
  const invalid = validate(schema, document, [...specifiedRules, depthLimitRule()]);
  if (invalid.length > 0) return invalid.map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) return [badRequest("name the operation to run (operationName)")];
  if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
    return [badRequest("only subscriptions run over WebSocket; send queries and mutations to POST /graphql")];
  }
  try {
    checkQueryCost(schema, document, payload.operationName, payload.variables ?? undefined);
    await limitRate(context.caller.projectId);
  } catch (error) {
    if (error instanceof DomainError) return [toGraphqlError(error)];
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
  return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: context };
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's `/graphql`. The API key comes in `connectionParams`
 * `{"x-api-key"}`; a connection without a valid one is closed with 4401, and so are a key's connections once it
 * is revoked or expires. Equal subscriptions share one execution per event (subscription-fan-out.ts).
 */
export function startSubscriptionServer(dependencies: SubscriptionDependencies): SubscriptionServer {
  const { httpServer, graphql, services, logger, limitRate } = dependencies;
  const webSocketServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: MAX_MESSAGE_BYTES });
  const keySockets = new ApiKeySockets(services, logger, dependencies.keyRecheckMs);
  const formatError = createErrorFormatter(logger);
  // DomainErrors (NOT_FOUND for another project's session) take their GraphQL form, as over HTTP.
  const format = ({ data, errors }: ExecutionResult): FormattedExecutionResult =>
    errors ? { data, errors: errors.map((error) => formatError(error.toJSON(), error)) } : { data };
  const fanOut = new SubscriptionFanOut({
    subscriberOpened: dependencies.subscriptionOpened,
    format,
    onSourceError: (error) => logger.error({ err: error }, "a subscription source failed"),
  });
  const contexts = new WeakMap<WebSocket, { context: GraphqlContext; host: string }>();
  const prepared = new WeakMap<ExecutionArgs, { groupKey: string; recipient: Recipient }>();

  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema: graphql.schema,
      onConnect: async ({ connectionParams, extra }) => {
        const apiKey = connectionParams?.["x-api-key"];
        const host = requestHost(extra.request);
        const context = graphql.createContext(host);
        try {
          if (typeof apiKey !== "string" || apiKey === "") throw DomainError.unauthenticated("missing x-api-key in connectionParams");
          await context.signIn(apiKey);
        } catch (error) {
          if (error instanceof DomainError) {
            extra.socket.close(UNAUTHORIZED_CLOSE_CODE, error.message);
          } else {
            logger.error({ err: error }, "could not sign a WebSocket connection in");
            extra.socket.close(CloseCode.InternalServerError, "Internal server error");
          }
          return false;
        }
        contexts.set(extra.socket, { context, host });
        keySockets.add(context.caller.apiKeyId, extra.socket);
        return true;
      },
      onSubscribe: async ({ extra, subscriptions }, id, payload) => {
        const signedIn = contexts.get(extra.socket);
        if (!signedIn) return [new GraphQLError("not signed in", { extensions: { code: "UNAUTHENTICATED" } })];
        if (Object.keys(subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [badRequest(`at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection`)];
        }
        const args = await prepare(graphql.schema, signedIn.context, payload, limitRate);
        if (!("document" in args)) return args;
        const { socket } = extra;
        const recipient: Recipient = {
          id,
          send: (message) => socket.send(message),
          get backlog() {
            return socket.bufferedAmount;
          },
        };
        prepared.set(args, { groupKey: groupKey(signedIn.context, signedIn.host, payload), recipient });
        return args;
      },
      subscribe: (args) => {
        const operation = prepared.get(args);
        if (!operation) throw new Error("a subscription reached execution without passing onSubscribe");
        return fanOut.subscribe(operation.groupKey, args, operation.recipient);
      },
      // Results of the fan-out go straight to the sockets; what passes here is a subscription refused at its start.
      onNext: (_context, _id, _payload, _args, result) => (result.errors ? format(result) : undefined),
    },
    webSocketServer,
  );

  return {
    get groupCount() {
      return fanOut.groupCount;
    },
    drain: async (graceMs) => {
      keySockets.stop();
      try {
        await settleWithin(server.dispose(), graceMs, undefined);
      } finally {
        for (const socket of webSocketServer.clients) socket.terminate();
      }
    },
  };
}
