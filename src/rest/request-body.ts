import type { IncomingMessage } from "node:http";
import { HttpProblem } from "./problem-details.js";

/** The largest request body the REST API reads (SPEC §4). */
export const MAX_BODY_BYTES = 1024 * 1024;

const tooLarge = () => new HttpProblem(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);

/** Refuses a declared Content-Length over the limit before a byte of the body is read. */
export function checkDeclaredLength(request: IncomingMessage): void {
  const declared = request.headers["content-length"];
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
}

/** JSON and the JSON-based types (`application/merge-patch+json`); no content type at all reads as JSON. */
function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(";")[0].trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9.+-]*\+json$/.test(type);
}

/** Reads the body up to the limit, counting bytes as they stream in: a chunked body has no declared length. */
async function readLimited(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    // The client went away mid-body: nothing to process, and nobody to read a 500.
    throw new HttpProblem(400, "the request body was not received completely");
  }
  return Buffer.concat(chunks);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The parsed JSON body, or undefined when there is none. Over 1 MiB: 413; not JSON: 415; not UTF-8 or
 * not parseable: 400 (the first check of SPEC §4's order).
 */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  checkDeclaredLength(request);
  const raw = await readLimited(request);
  if (raw.length === 0) return undefined;
  if (!isJsonContentType(request.headers["content-type"])) {
    throw new HttpProblem(415, `expected a JSON body (content-type application/json), got ${request.headers["content-type"]}`);
  }
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new HttpProblem(400, "unable to parse the request body", [{ location: "body", message: "the body is not valid UTF-8" }]);
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : "invalid JSON";
    throw new HttpProblem(400, "unable to parse the request body", [{ location: "body", message }]);
  }
}
