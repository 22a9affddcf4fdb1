import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { ApiKeysService } from "../../src/services/api-keys.service.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";

describe.each(databaseKinds())("API keys on %s", (kind) => {
  let testDatabase: TestDatabase;
  let database: Database;
  let apiKeys: ApiKeysService;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    database = await Database.connect(testDatabase.url);
    await database.migrate();
    apiKeys = new ApiKeysService(database);
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it("rejects a missing, unknown or empty key as UNAUTHENTICATED", async () => {
    for (const key of [undefined, "", "svk_not-a-key"]) {
      await expect(apiKeys.authenticate(key)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    }
  });

  it("makes the bootstrap key belong to the default project, idempotently", async () => {
    const first = await apiKeys.ensureBootstrapKey("bootstrap-key-number-one");
    const again = await apiKeys.ensureBootstrapKey("bootstrap-key-number-one");
    expect(again).toEqual(first);
    const projects = await apiKeys.listProjects();
    expect(projects.filter((project) => project.name === "default")).toHaveLength(1);
    await expect(apiKeys.authenticate("bootstrap-key-number-one")).resolves.toMatchObject({ projectId: first.projectId });
  });

  it("replaces an earlier bootstrap key and never touches other keys", async () => {
    const first = await apiKeys.ensureBootstrapKey("bootstrap-key-number-one");
    const other = await apiKeys.createApiKey(first.projectId, { name: "ordinary" });
    const second = await apiKeys.ensureBootstrapKey("bootstrap-key-number-two");
    expect(second.projectId).toBe(first.projectId);
    await expect(apiKeys.authenticate("bootstrap-key-number-one")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(apiKeys.authenticate("bootstrap-key-number-two")).resolves.toMatchObject({ projectId: first.projectId });
    await expect(apiKeys.authenticate(other.key)).resolves.toMatchObject({ apiKeyId: other.id });
  });

  it("refuses a bootstrap key that is already an ordinary key", async () => {
    const { apiKey } = await apiKeys.createProject("elsewhere");
    await expect(apiKeys.ensureBootstrapKey(apiKey.key)).rejects.toMatchObject({ code: "CONFLICT" });
  });
});
