import { unwrapResolverError } from "@apollo/server/errors";
import { HeaderMap } from "@apollo/server";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { DomainError, type DomainErrorCode, type FieldPath, renderPath } from "../domain/errors.js";
import type { Logger } from "../logger.js";

/** The codes GraphQL clients see in `extensions.code` for rule failures (SPEC §5). */
export type GraphqlErrorCode = "BAD_USER_INPUT" | "NOT_FOUND" | "CONFLICT" | "UNAUTHENTICATED" | "RATE_LIMITED";

/** One bad place in the input, as `extensions.errors` lists it. */
export interface GraphqlInputError {
  location: string;
  message: string;
  value?: unknown;
}

const CODES: Record<DomainErrorCode, GraphqlErrorCode> = {
  INVALID_INPUT: "BAD_USER_INPUT",
  BAD_REQUEST: "BAD_USER_INPUT",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  RATE_LIMITED: "RATE_LIMITED",
};

const snakeToCamel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The one renderer of service field paths for GraphQL: the REST path `["keys", 0, "public_key"]` (rendered
 * `body.keys[0].public_key` there) is `input.keys[0].publicKey` in a mutation's `input` argument.
 */
export function renderInputPath(path: FieldPath): string {
  return renderPath("input", path, snakeToCamel);
}

/** A bad argument the adapter itself rejects (paging arguments, cursors), in the same form as service errors. */
export function badArgument(location: string, message: string, value: unknown): GraphQLError {
  return new GraphQLError(`${location}: ${message}`, {
    extensions: { code: "BAD_USER_INPUT", errors: [{ location, message, value }] satisfies GraphqlInputError[] },
  });
}

/**
 * A DomainError as a GraphQL error. `request` marks errors that end the whole request (authentication, rate
 * limit), which also set the HTTP status as REST does.
 */
export function toGraphqlError(error: DomainError, options: { request?: boolean } = {}): GraphQLError {
  const code = CODES[error.code];
  const extensions: Record<string, unknown> = { code };
  if (code === "BAD_USER_INPUT") {
    extensions.errors = error.errors.map(
      (fieldError): GraphqlInputError => ({ location: renderInputPath(fieldError.path), message: fieldError.message, value: fieldError.value }),
    );
  }
  // Whole seconds, at least one, as REST's Retry-After.
  const retryAfter = error.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterSeconds));
  if (retryAfter !== undefined) extensions.retryAfter = retryAfter;
  if (options.request && code === "UNAUTHENTICATED") extensions.http = { status: 401 };
  if (options.request && code === "RATE_LIMITED") {
    const headers = new HeaderMap();
    if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
    extensions.http = { status: 429, headers };
  }
  return new GraphQLError(error.message, { extensions });
}

/**
 * Apollo's formatError: DomainErrors thrown by resolvers take their GraphQL form here, once; anything that is
 * neither a DomainError nor a GraphQL error is a bug, logged and never shown.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof DomainError) {
      const mapped = toGraphqlError(original);
      return { ...formatted, message: mapped.message, extensions: mapped.extensions };
    }
    if (original instanceof GraphQLError || !(original instanceof Error)) return formatted;
    logger.error({ err: original, path: formatted.path }, "graphql resolver failed");
    return { message: "Internal server error", path: formatted.path, locations: formatted.locations, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
