import { randomBytes } from "node:crypto";
import net from "node:net";
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware, type ParsedKey } from "ssh2";

const { Client, utils } = ssh2;

export interface Ssh2Outcome {
  authenticated: boolean;
  /** Why the client gave up, when it did. */
  error: string | null;
}

/**
 * An ssh2 client run to its end: authenticated (then it closes at once), refused, or cut off. `onSocket` sees the
 * TCP socket, for tests that pull it away mid-way.
 */
export function ssh2Login(
  port: number,
  username: string,
  authHandler: AuthHandlerMiddleware,
  onSocket: (socket: net.Socket) => void = () => undefined,
): Promise<Ssh2Outcome> {
  return new Promise((resolve) => {
    const client = new Client();
    const socket = net.connect(port, "127.0.0.1");
    onSocket(socket);
    let authenticated = false;
    let error: string | null = null;
    client.on("ready", () => {
      authenticated = true;
      client.end();
    });
    client.on("error", (failure) => (error ??= failure.message));
    client.on("close", () => resolve({ authenticated, error }));
    client.connect({ sock: socket, username, authHandler, readyTimeout: 20_000 });
  });
}

/** An ssh2 parsed private key from the text of a key file. */
export function parsedPrivateKey(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error("not a single private key");
  return parsed;
}

/** The key, signing garbage of the right length: a signature that cannot verify. */
export function withBogusSignatures(key: ParsedKey): ParsedKey {
  Object.defineProperty(key, "sign", { value: () => randomBytes(64) });
  return key;
}

/** ssh2 1.17 takes `false` for "no method left"; its typings leave it out. */
export const NO_MORE_METHODS = false as unknown as AnyAuthMethod;

/** `none`, then the one public-key request given, as OpenSSH orders them. */
export function publicKeyOnce(username: string, key: ParsedKey): AuthHandlerMiddleware {
  const steps: AnyAuthMethod[] = [{ type: "none", username }, { type: "publickey", username, key }];
  return (_methodsLeft, _partialSuccess, next) => next(steps.shift() ?? NO_MORE_METHODS);
}
