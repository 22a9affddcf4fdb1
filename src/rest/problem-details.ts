import { STATUS_CODES } from "node:http";
import { DomainError, renderPath, type DomainErrorCode } from "../domain/errors.js";

/** One entry of a problem's `errors`: where in the request, what is wrong, and the value when small enough. */
export interface ErrorDetail {
  location: string;
  message: string;
  value?: unknown;
}

/** An RFC 9457 problem answer; thrown anywhere in the REST pipeline and rendered once by the router. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
  }

  /** Every schema and rule violation of a request, together. */
  static validation(errors: ErrorDetail[]): HttpProblem {
    return new HttpProblem(422, "validation failed", errors);
  }
}

/** The problem body without `$schema`, which the router adds with the request's base URL. */
export interface ProblemBody {
  title: string;
  status: number;
  detail: string;
  errors?: ErrorDetail[];
}

/** Where Go's reason phrase (which Huma uses as the title) differs from Node's. */
const GO_REASON_PHRASES: Record<number, string> = {
  413: "Request Entity Too Large",
  414: "Request URI Too Long",
  416: "Requested Range Not Satisfiable",
};

/** Huma's titles are the HTTP reason phrase, as Go's `http.StatusText` spells it. */
export function reasonPhrase(status: number): string {
  return GO_REASON_PHRASES[status] ?? STATUS_CODES[status] ?? "Error";
}

export function problemBody(problem: HttpProblem): ProblemBody {
  return {
    title: reasonPhrase(problem.status),
    status: problem.status,
    detail: problem.detail,
    ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
  };
}

const STATUS_OF: Record<DomainErrorCode, number> = {
  INVALID_INPUT: 422,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

const MAX_VALUE_CHARACTERS = 1024;

/**
 * The offending value, repeated only when it is small: a hostile body can be deeply nested or huge, and
 * echoing it would make the answer as big (or unserializable).
 */
export function reportableValue(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    const serialized = JSON.stringify(value);
    return serialized !== undefined && serialized.length <= MAX_VALUE_CHARACTERS ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A service error in REST form: field paths of rule errors become `body.…` locations. */
export function problemFromDomainError(error: DomainError): HttpProblem {
  const status = STATUS_OF[error.code];
  const errors = error.errors.map((fieldError) => {
    const value = reportableValue(fieldError.value);
    return {
      location: renderPath("body", fieldError.path),
      message: fieldError.message,
      ...(value === undefined ? {} : { value }),
    };
  });
  const headers: Record<string, string> =
    error.retryAfterSeconds === undefined ? {} : { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) };
  return new HttpProblem(status, error.message, errors, headers);
}
