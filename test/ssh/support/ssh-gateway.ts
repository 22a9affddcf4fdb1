import type { SessionKind } from "../../../src/domain/session-rules.js";
import type { RequestContext } from "../../../src/services/context.js";
import type { SessionInput } from "../../../src/services/session-input.js";
import type { SessionDetail } from "../../../src/services/session-views.js";
import type { DatabaseKind } from "../../support/databases.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { KeyRing, runSsh, type SshOptions, type SshResult, type TestKey } from "./openssh.js";

/** A whole gateway, a key ring and the calls every SSH test makes. */
export interface SshTestBed {
  gateway: TestGateway;
  /** The bootstrap key's project, for calling services directly. */
  context: RequestContext;
  keys: KeyRing;
  create(kind: SessionKind, input?: SessionInput): Promise<SessionDetail>;
  /** A verify session configured with these keys. */
  verifySession(keys: TestKey[], input?: SessionInput): Promise<SessionDetail>;
  get(session: SessionDetail): Promise<SessionDetail>;
  /** Runs `ssh` as the session's connection identifier. */
  ssh(session: SessionDetail | string, options?: Omit<SshOptions, "port" | "user">): Promise<SshResult>;
  stop(): Promise<void>;
}

export async function startSshTestBed(kind: DatabaseKind, environment: Record<string, string> = {}): Promise<SshTestBed> {
  const gateway = await startTestGateway(kind, environment);
  const keys = new KeyRing();
  const context: RequestContext = await gateway.services.apiKeys.authenticate(gateway.apiKey);
  const create = (sessionKind: SessionKind, input: SessionInput = {}) => gateway.services.sessions.create(context, sessionKind, input);
  return {
    gateway,
    context,
    keys,
    create,
    verifySession: (configured, input = {}) =>
      create("verify", { ...input, keys: configured.map((key) => ({ publicKey: key.publicKey })) }),
    get: (session) => gateway.services.sessions.get(context, session.kind, session.id),
    ssh: (session, options = {}) =>
      runSsh({
        ...options,
        port: gateway.sshPort,
        user: typeof session === "string" ? session : session.connectionIdentifier,
      }),
    stop: async () => {
      keys.remove();
      await gateway.stop();
    },
  };
}
