import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { koaMiddleware } from "@as-integrations/koa";
import { bodyParser } from "@koa/bodyparser";
import type { GraphQLSchema } from "graphql";
import type { Middleware } from "koa";
import type { Config } from "../config.js";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services/index.js";
import { createErrorFormatter, toGraphqlError } from "./errors.js";
import { GraphqlContext } from "./graphql-context.js";
import { checkQueryCost, depthLimitRule } from "./query-limits.js";
import { buildGatewaySchema } from "./schema.js";

/** Queries and mutations over HTTP here; subscriptions will share the path over WebSocket (SPEC §5). */
export const GRAPHQL_PATH = "/graphql";

/**
 * A query text of more tokens is refused while parsing, before its cost is computed; this also keeps nesting
 * shallow enough for the parser's recursion, so the depth rule, not a stack overflow, refuses deep queries.
 */
export const MAX_QUERY_TOKENS = 10_000;

export interface GraphqlDependencies {
  services: Services;
  config: Config;
  logger: Logger;
  /** The SSH server's public port; the gateway knows the bound one when SSH_PORT=0. */
  sshPort: () => number;
  /** RATE_LIMIT_PER_MINUTE: counts the caller's operation; throws DomainError RATE_LIMITED past the limit. */
  limitRate(projectId: string): Promise<void>;
}

export interface GraphqlServer {
  /** Also what a graphql-ws server on the same HTTP server executes against. */
  readonly schema: GraphQLSchema;
  /** Koa middleware for `/graphql`; every other path passes through. */
  readonly middleware: Middleware;
  /** A context for an operation that reached the API under `host` (shown in `sshCommand` unless PUBLIC_SSH_HOST is set). */
  createContext(host: string): GraphqlContext;
  stop(): Promise<void>;
}

/**
 * Order per operation: parse (token cap) -> validate (depth) -> cost -> API key -> rate limit -> execute. A query
 * refused by a limit never reaches the database, not even for its API key.
 */
function signInAfterLimits(limitRate: GraphqlDependencies["limitRate"]): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operationName, request, schema }) {
          checkQueryCost(schema, document, operationName, request.variables);
          try {
            await contextValue.signIn(request.http?.headers.get("x-api-key"));
            await limitRate(contextValue.caller.projectId);
          } catch (error) {
            throw error instanceof DomainError ? toGraphqlError(error, { request: true }) : error;
          }
        },
      };
    },
  };
}

/** Starts Apollo (it must be started before its middleware exists) over the schema built from the resolvers. */
export async function startGraphqlServer(dependencies: GraphqlDependencies): Promise<GraphqlServer> {
  const { services, config, logger, sshPort, limitRate } = dependencies;
  const schema = buildGatewaySchema();
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    validationRules: [depthLimitRule()],
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // The default landing page loads a sandbox from a CDN; this API serves JSON only. Cache hints are unused,
    // and the cache-control plugin would wrap every field resolver.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), signInAfterLimits(limitRate)],
  });
  await apollo.start();

  const createContext = (host: string) => new GraphqlContext(services, { host: config.publicSshHost ?? host, port: sshPort() });
  const parseBody = bodyParser({ enableTypes: ["json"], jsonLimit: "1mb" });
  const execute = koaMiddleware(apollo, { context: async ({ ctx }) => createContext(ctx.hostname) });
  const middleware: Middleware = async (ctx, next) => {
    if (ctx.path !== GRAPHQL_PATH) return next();
    try {
      await parseBody(ctx, async () => undefined);
    } catch (error) {
      const status = (error as { status?: number }).status === 413 ? 413 : 400;
      ctx.status = status;
      ctx.body = {
        errors: [{ message: status === 413 ? "request body is larger than 1 MiB" : "the request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }],
      };
      return;
    }
    await execute(ctx, async () => undefined);
  };
  return { schema, middleware, createContext, stop: () => apollo.stop() };
}
