/** A path into the input in the REST field names, e.g. ["keys", 0, "public_key"]; each API renders it. */
export type FieldPath = ReadonlyArray<string | number>;

/** One place in the input that broke a rule. */
export interface FieldError {
  path: FieldPath;
  message: string;
  value?: unknown;
}

/** Renders `["keys", 0, "public_key"]` under a root as `body.keys[0].public_key`. */
export function renderPath(root: string, path: FieldPath, rename: (name: string) => string = (name) => name): string {
  return path.reduce<string>(
    (rendered, segment) => (typeof segment === "number" ? `${rendered}[${segment}]` : `${rendered}.${rename(segment)}`),
    root,
  );
}

export type DomainErrorCode =
  | "INVALID_INPUT"
  | "BAD_REQUEST"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "RATE_LIMITED";

/** The one error type of the service layer; each API maps it to its own form once. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }

  static invalid(errors: FieldError[], message = "validation failed"): DomainError {
    return new DomainError("INVALID_INPUT", message, errors);
  }

  static notFound(what: string): DomainError {
    return new DomainError("NOT_FOUND", `${what} not found`);
  }

  static conflict(message: string): DomainError {
    return new DomainError("CONFLICT", message);
  }

  static unauthenticated(message = "a valid API key is required"): DomainError {
    return new DomainError("UNAUTHENTICATED", message);
  }
}
