import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { type DnsLookup, guardedSocketLookup, hostOf, isPrivateAddress, PrivateTargetError } from "./address-guard.js";
import type { SignatureHeaders } from "./webhook-signature.js";

/** The part of a response body kept with an attempt (SPEC §4: at most 4 KiB). */
export const RESPONSE_BODY_LIMIT = 4096;

export interface OutgoingWebhook {
  url: string;
  method: string;
  headers: Record<string, string[]>;
  signature: SignatureHeaders;
  body: string;
}

export interface SenderOptions {
  allowPrivate: boolean;
  lookup: DnsLookup;
  timeoutMs: number;
  /** Aborting rejects the send with the signal's reason: the attempt was interrupted, not made. */
  signal: AbortSignal;
}

/** What one attempt came to; `error` says why it did not count as delivered. */
export interface SendResult {
  succeeded: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

const USER_AGENT = "sshverify-webhooks/1";

/** One HTTP request: redirects are not followed, only a 2xx status counts, everything is bounded by `timeoutMs`. */
export function sendWebhook(request: OutgoingWebhook, options: SenderOptions): Promise<SendResult> {
  const url = new URL(request.url);
  const host = hostOf(url);
  // A literal address never reaches the socket's lookup, so it is checked here.
  if (!options.allowPrivate && isIP(host) && isPrivateAddress(host)) {
    return Promise.resolve(failure(`refused: ${new PrivateTargetError(host, host).message}`));
  }
  if (options.signal.aborted) return Promise.reject(options.signal.reason);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve, reject) => {
    let settled = false;
    let status: number | null = null;
    const chunks: Buffer[] = [];
    let kept = 0;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const finishWithResponse = () => settle(() => resolve(responseResult(status as number, Buffer.concat(chunks))));
    const outgoing = transport.request(url, {
      method: request.method.toUpperCase(),
      agent: false,
      lookup: guardedSocketLookup(options.lookup, options.allowPrivate),
      headers: {
        ...request.headers,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(request.body).toString(),
        "user-agent": USER_AGENT,
        ...request.signature,
      },
    });
    const timer = setTimeout(() => {
      if (status !== null) finishWithResponse();
      else settle(() => resolve(failure(`timed out after ${options.timeoutMs / 1000} s`)));
      outgoing.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      settle(() => reject(options.signal.reason));
      outgoing.destroy();
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    outgoing.on("response", (response) => {
      status = response.statusCode ?? 0;
      response.on("data", (chunk: Buffer) => {
        const room = RESPONSE_BODY_LIMIT - kept;
        if (room > 0) {
          chunks.push(chunk.subarray(0, room));
          kept += Math.min(room, chunk.length);
        }
        if (kept >= RESPONSE_BODY_LIMIT) {
          finishWithResponse();
          response.destroy();
        }
      });
      response.on("end", finishWithResponse);
      response.on("close", finishWithResponse);
      response.on("error", finishWithResponse);
    });
    outgoing.on("error", (error) => settle(() => resolve(failure(describeError(error)))));
    outgoing.end(request.body);
  });
}

function responseResult(status: number, body: Buffer): SendResult {
  const succeeded = status >= 200 && status < 300;
  let error: string | null = null;
  if (!succeeded) {
    error = `expected a 2xx status, got ${status}`;
    if (status >= 300 && status < 400) error += " (redirects are not followed)";
  }
  return { succeeded, responseStatus: status, responseBody: body.toString("utf8"), error };
}

function failure(error: string): SendResult {
  return { succeeded: false, responseStatus: null, responseBody: null, error };
}

function describeError(error: Error): string {
  if (error instanceof PrivateTargetError) return `refused: ${error.message}`;
  return error.message || error.name;
}
