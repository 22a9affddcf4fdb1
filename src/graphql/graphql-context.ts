import { DomainError } from "../domain/errors.js";
import type { RequestContext } from "../services/context.js";
import type { Services } from "../services/index.js";
import { SessionLoaders } from "./session-loaders.js";
import { formatSshCommand } from "./ssh-command.js";

/** Where the person's SSH client connects: PUBLIC_SSH_HOST or the host the API was reached at, and the SSH port. */
export interface SshEndpoint {
  host: string;
  port: number;
}

/**
 * The context of one GraphQL operation (an HTTP request now, a subscription later). It is created before the
 * query is checked, and signed in only once the depth and cost limits passed, so a rejected query runs no SQL.
 */
export class GraphqlContext {
  private signedIn: { caller: RequestContext; loaders: SessionLoaders } | null = null;

  constructor(
    readonly services: Services,
    private readonly sshEndpoint: SshEndpoint,
  ) {}

  async signIn(apiKey: string | undefined): Promise<void> {
    const caller = await this.services.apiKeys.authenticate(apiKey);
    this.signedIn = { caller: { projectId: caller.projectId, apiKeyId: caller.apiKeyId }, loaders: new SessionLoaders(this.services, caller) };
  }

  get caller(): RequestContext {
    return this.session().caller;
  }

  get loaders(): SessionLoaders {
    return this.session().loaders;
  }

  sshCommand(connectionIdentifier: string): string {
    return formatSshCommand(connectionIdentifier, this.sshEndpoint.host, this.sshEndpoint.port);
  }

  private session() {
    if (!this.signedIn) throw DomainError.unauthenticated();
    return this.signedIn;
  }
}
