import { createHash } from "node:crypto";
import { type EntityManager, In } from "typeorm";
import type { Database } from "../db/database.js";
import { ApiKey, Project } from "../db/entities/index.js";
import { DomainError } from "../domain/errors.js";
import { newApiKey, newId, now } from "../domain/ids.js";
import type { RequestContext } from "./context.js";
import type { GatewayPubSub } from "./pubsub.js";

export const DEFAULT_PROJECT_NAME = "default";

export interface IssuedApiKey {
  id: string;
  projectId: string;
  /** Shown once; only its hash is stored. */
  key: string;
  expiredAt: Date | null;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  projectId: string;
  createdAt: Date;
  expiredAt: Date | null;
  revokedAt: Date | null;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

function toInfo(key: ApiKey): ApiKeyInfo {
  const { id, name, projectId, createdAt, expiredAt, revokedAt } = key;
  return { id, name, projectId, createdAt, expiredAt, revokedAt };
}

/** Not revoked and not past its expiry. */
const authenticates = (key: ApiKey): boolean => !key.revokedAt && !(key.expiredAt && key.expiredAt.getTime() <= Date.now());

/** Projects and their API keys: keys are random, shown once, stored as a hash, may expire, may be revoked. */
export class ApiKeysService {
  /** Without a pub/sub (the CLI), open WebSocket connections of a revoked key close at their instance's next re-check. */
  constructor(
    private readonly database: Database,
    private readonly pubSub: GatewayPubSub | null = null,
  ) {}

  async createProject(name: string): Promise<{ project: Project; apiKey: IssuedApiKey }> {
    return this.database.transaction(async ({ manager }) => {
      const createdAt = now();
      const project = manager.create(Project, { id: newId(createdAt), name, createdAt });
      await manager.insert(Project, project);
      const apiKey = await this.insertKey(manager, project.id, { name: "default", expiredAt: null });
      return { project, apiKey };
    });
  }

  async createApiKey(projectId: string, options: { name?: string; expiredAt?: Date | null }): Promise<IssuedApiKey> {
    return this.database.transaction(async ({ manager }) => {
      const project = await manager.findOneBy(Project, { id: projectId });
      if (!project) throw DomainError.notFound("project");
      return this.insertKey(manager, projectId, { name: options.name ?? "api key", expiredAt: options.expiredAt ?? null });
    });
  }

  async listApiKeys(projectId?: string): Promise<ApiKeyInfo[]> {
    const keys = await this.database.read((manager) =>
      manager.find(ApiKey, { where: projectId ? { projectId } : {}, order: { createdAt: "ASC", id: "ASC" } }),
    );
    return keys.map(toInfo);
  }

  async listProjects(): Promise<Project[]> {
    return this.database.read((manager) => manager.find(Project, { order: { createdAt: "ASC" } }));
  }

  async revokeApiKey(id: string): Promise<ApiKeyInfo> {
    return this.database.transaction(async ({ manager, afterCommit }) => {
      const key = await manager.findOneBy(ApiKey, { id });
      if (!key) throw DomainError.notFound("api key");
      afterCommit(() => this.pubSub?.publish("api-key:revoked", { apiKeyId: id }));
      if (!key.revokedAt) {
        key.revokedAt = now();
        await manager.update(ApiKey, { id }, { revokedAt: key.revokedAt });
      }
      return toInfo(key);
    });
  }

  /** One indexed lookup by hash. Missing, wrong, revoked or expired keys are all UNAUTHENTICATED. */
  async authenticate(key: string | undefined | null): Promise<RequestContext & { key: ApiKeyInfo }> {
    if (!key) throw DomainError.unauthenticated("missing x-api-key header");
    const found = await this.database.read((manager) => manager.findOneBy(ApiKey, { keyHash: hashApiKey(key) }));
    if (!found || !authenticates(found)) {
      throw DomainError.unauthenticated("invalid, revoked or expired API key");
    }
    return { projectId: found.projectId, apiKeyId: found.id, key: toInfo(found) };
  }

  /** Of these keys, the ids that no longer authenticate (revoked, expired or deleted), in one query; live subscriptions re-check with it. */
  async invalidKeyIds(apiKeyIds: readonly string[]): Promise<string[]> {
    if (apiKeyIds.length === 0) return [];
    const found = await this.database.read((manager) => manager.findBy(ApiKey, { id: In([...apiKeyIds]) }));
    const valid = new Set(found.filter(authenticates).map((key) => key.id));
    return apiKeyIds.filter((id) => !valid.has(id));
  }

  /**
   * BOOTSTRAP_API_KEY: make sure the `default` project exists and owns this key, replacing an earlier
   * bootstrap key and never touching other keys. Runs under the start-up lock.
   */
  async ensureBootstrapKey(key: string): Promise<{ projectId: string; apiKeyId: string }> {
    return this.database.transaction(async ({ manager }) => {
      let project = await manager.findOne(Project, { where: { name: DEFAULT_PROJECT_NAME }, order: { createdAt: "ASC" } });
      if (!project) {
        const createdAt = now();
        project = manager.create(Project, { id: newId(createdAt), name: DEFAULT_PROJECT_NAME, createdAt });
        await manager.insert(Project, project);
      }
      const keyHash = hashApiKey(key);
      const existing = await manager.findOneBy(ApiKey, { keyHash });
      if (existing) {
        if (existing.projectId !== project.id || !existing.bootstrap) {
          throw new DomainError("CONFLICT", "BOOTSTRAP_API_KEY is already an ordinary key of another project");
        }
        await manager.update(ApiKey, { id: existing.id }, { revokedAt: null, expiredAt: null });
        return { projectId: project.id, apiKeyId: existing.id };
      }
      await manager.delete(ApiKey, { bootstrap: true });
      const createdAt = now();
      const id = newId(createdAt);
      await manager.insert(ApiKey, {
        id,
        projectId: project.id,
        name: "bootstrap",
        keyHash,
        bootstrap: true,
        createdAt,
        expiredAt: null,
        revokedAt: null,
      });
      return { projectId: project.id, apiKeyId: id };
    });
  }

  private async insertKey(
    manager: EntityManager,
    projectId: string,
    options: { name: string; expiredAt: Date | null },
  ): Promise<IssuedApiKey> {
    const key = newApiKey();
    const createdAt = now();
    const id = newId(createdAt);
    await manager.insert(ApiKey, {
      id,
      projectId,
      name: options.name,
      keyHash: hashApiKey(key),
      bootstrap: false,
      createdAt,
      expiredAt: options.expiredAt,
      revokedAt: null,
    });
    return { id, projectId, key, expiredAt: options.expiredAt };
  }
}
