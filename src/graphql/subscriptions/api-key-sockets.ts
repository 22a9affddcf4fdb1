import type { WebSocket } from "ws";
import type { Logger } from "../../logger.js";
import type { Services } from "../../services/index.js";

/** graphql-ws's own code for a connection that is not (or no longer) authorised; its client does not retry it. */
export const UNAUTHORIZED_CLOSE_CODE = 4401;

/** How often every instance re-checks the keys of its open connections, for revocations it was not told about. */
export const DEFAULT_KEY_RECHECK_MS = 5_000;

/**
 * The open WebSocket connections by the API key they signed in with. A revocation published on `api-key:revoked`
 * (by any instance) closes that key's connections at once; a periodic re-check also closes those of keys revoked
 * without a publish (the CLI) or expired since.
 */
export class ApiKeySockets {
  private readonly byKey = new Map<string, Set<WebSocket>>();
  private readonly revocations: AsyncGenerator<{ apiKeyId: string }>;
  private readonly recheck: NodeJS.Timeout;
  private rechecking = false;

  constructor(
    private readonly services: Services,
    private readonly logger: Logger,
    recheckMs: number = DEFAULT_KEY_RECHECK_MS,
  ) {
    this.revocations = services.pubSub.subscribe("api-key:revoked");
    this.closeRevoked().catch((error: unknown) => logger.error({ err: error }, "stopped listening for API key revocations"));
    this.recheck = setInterval(() => void this.closeInvalid(), recheckMs);
    this.recheck.unref();
  }

  add(apiKeyId: string, socket: WebSocket): void {
    let sockets = this.byKey.get(apiKeyId);
    if (!sockets) this.byKey.set(apiKeyId, (sockets = new Set()));
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.byKey.get(apiKeyId) === sockets) this.byKey.delete(apiKeyId);
    });
  }

  stop(): void {
    clearInterval(this.recheck);
    void this.revocations.return(undefined);
  }

  private async closeRevoked(): Promise<void> {
    for await (const { apiKeyId } of this.revocations) this.close(apiKeyId, "API key revoked");
  }

  private async closeInvalid(): Promise<void> {
    if (this.rechecking || this.byKey.size === 0) return;
    this.rechecking = true;
    try {
      const invalid = await this.services.apiKeys.invalidKeyIds([...this.byKey.keys()]);
      for (const apiKeyId of invalid) this.close(apiKeyId, "API key revoked or expired");
    } catch (error) {
      this.logger.warn({ err: error }, "could not re-check the API keys of WebSocket connections");
    } finally {
      this.rechecking = false;
    }
  }

  private close(apiKeyId: string, reason: string): void {
    const sockets = this.byKey.get(apiKeyId);
    if (!sockets) return;
    this.logger.info({ apiKeyId, connections: sockets.size }, "closing the WebSocket connections of an API key");
    for (const socket of sockets) socket.close(UNAUTHORIZED_CLOSE_CODE, reason);
  }
}
