import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphql, graphqlData } from "./support/graphql-client.js";
import { ed25519KeyLine, recordConnection } from "../support/ssh-activity.js";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const SESSION_FIELDS = `
  id connectionIdentifier sshCommand status externalId matchAllKeys maxAttempts multiConnection multiKey
  mustConfirm sshBanner sshMessage expiredAt createdAt updatedAt
  keys { id name externalId publicKeyAlgorithm publicKeyMd5 publicKeyPem publicKeySha256 publicKeySsh verifiedAt createdAt }
  connections { id ipAddress clientVersion createdAt keys { id sessionKeyId name externalId publicKeySha256 verifiedAt } }
  webhooks { id url method headers { name values } events retries initialBackoff backoffMultiplier secret createdAt updatedAt }
`;

const CREATE = `mutation Create($input: CreateVerifySessionInput!) { createVerifySession(input: $input) { ${SESSION_FIELDS} } }`;
const UPDATE = `mutation Update($id: ID!, $input: UpdateVerifySessionInput!) { updateVerifySession(id: $id, input: $input) { ${SESSION_FIELDS} } }`;
const GET = `query Get($id: ID!) { verifySession(id: $id) { ${SESSION_FIELDS} } }`;

describe.each(databaseKinds())("verify sessions over GraphQL on %s", (kind) => {
  let gateway: TestGateway;
  let otherProjectKey: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    otherProjectKey = (await gateway.services.apiKeys.createProject("other")).apiKey.key;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const create = async (input: Record<string, unknown>) =>
    (await graphqlData(gateway, CREATE, { input })).createVerifySession;

  it("creates a session with the defaults and shows the exact ssh command", async () => {
    const line = ed25519KeyLine();
    const session = await create({ keys: [{ publicKey: line }] });
    const parsed = parsePublicKey(line);
    expect(session).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      connectionIdentifier: expect.stringMatching(/^[a-z][a-z2-7]{25,}$/),
      sshCommand: `ssh -p ${gateway.sshPort} ${session.connectionIdentifier}@127.0.0.1`,
      status: "PENDING",
      externalId: null,
      matchAllKeys: false,
      maxAttempts: 1,
      multiConnection: false,
      multiKey: false,
      mustConfirm: false,
      sshBanner: null,
      sshMessage: null,
      expiredAt: null,
      createdAt: expect.stringMatching(RFC3339_UTC),
      updatedAt: session.createdAt,
      keys: [
        {
          id: expect.any(String),
          name: null,
          externalId: null,
          publicKeyAlgorithm: "ssh-ed25519",
          publicKeyMd5: parsed.md5,
          publicKeyPem: parsed.pem,
          publicKeySha256: parsed.sha256,
          publicKeySsh: parsed.ssh,
          verifiedAt: null,
          createdAt: session.createdAt,
        },
      ],
      connections: [],
      webhooks: [],
    });
  });

  it("creates a session with every setting and a webhook whose secret is shown this once", async () => {
    const expiredAt = new Date(Date.now() + 3_600_000);
    expiredAt.setMilliseconds(250);
    const session = await create({
      keys: [{ publicKey: ed25519KeyLine(), name: "laptop", externalId: "key-1" }, { publicKey: ed25519KeyLine() }],
      externalId: "customer-7",
      matchAllKeys: true,
      maxAttempts: 3,
      multiConnection: true,
      multiKey: true,
      mustConfirm: true,
      sshBanner: "Welcome",
      sshMessage: "Thanks",
      expiredAt: expiredAt.toISOString(),
      webhooks: [
        { url: "https://hooks.example.com/in", method: "PUT", headers: [{ name: "X-Token", values: ["a", "b"] }], events: ["VERIFIED"], retries: 3 },
      ],
    });
    expect(session).toMatchObject({
      externalId: "customer-7",
      matchAllKeys: true,
      maxAttempts: 3,
      multiConnection: true,
      multiKey: true,
      mustConfirm: true,
      sshBanner: "Welcome",
      sshMessage: "Thanks",
      expiredAt: expiredAt.toISOString(),
      keys: [{ name: "laptop", externalId: "key-1" }, { name: null, externalId: null }],
      webhooks: [
        {
          url: "https://hooks.example.com/in",
          method: "PUT",
          headers: [{ name: "X-Token", values: ["a", "b"] }],
          events: ["VERIFIED"],
          retries: 3,
          initialBackoff: 10,
          backoffMultiplier: 2,
          secret: expect.stringMatching(/^whsec_/),
        },
      ],
    });
    const read = (await graphqlData(gateway, GET, { id: session.id })).verifySession;
    expect(read.webhooks[0].secret).toBeNull();
    expect({ ...read, webhooks: [] }).toEqual({ ...session, webhooks: [] });
  });

  it("reads a session by id and through node(id) with the REST id", async () => {
    const session = await create({ keys: [{ publicKey: ed25519KeyLine() }], externalId: "by-node" });
    const rest = await gateway.request("GET", `/api/v1/ssh/verify/sessions/${session.id}`);
    expect(rest.json.id).toBe(session.id);
    const data = await graphqlData(
      gateway,
      `query($id: ID!) { node(id: $id) { __typename id ... on VerifySession { externalId status } } verifySession(id: $id) { id } collectSession(id: $id) { id } }`,
      { id: session.id },
    );
    expect(data).toEqual({
      node: { __typename: "VerifySession", id: session.id, externalId: "by-node", status: "PENDING" },
      verifySession: { id: session.id },
      collectSession: null,
    });
  });

  it("shows connections with the keys proven on them", async () => {
    const line = ed25519KeyLine();
    const session = await create({ keys: [{ publicKey: line, name: "laptop", externalId: "k1" }] });
    const connectionId = await recordConnection(gateway.services, session.id, [{ keyLine: line, sessionKeyId: session.keys[0].id }]);
    const read = (await graphqlData(gateway, GET, { id: session.id })).verifySession;
    expect(read.status).toBe("VERIFIED");
    expect(read.keys[0].verifiedAt).toMatch(RFC3339_UTC);
    expect(read.connections).toEqual([
      {
        id: connectionId,
        ipAddress: "203.0.113.7",
        clientVersion: "SSH-2.0-OpenSSH_9.6",
        createdAt: expect.stringMatching(RFC3339_UTC),
        keys: [
          {
            id: expect.any(String),
            sessionKeyId: session.keys[0].id,
            name: "laptop",
            externalId: "k1",
            publicKeySha256: parsePublicKey(line).sha256,
            verifiedAt: expect.stringMatching(RFC3339_UTC),
          },
        ],
      },
    ]);
  });

  it("updates as a merge patch: omitted fields stay, null clears, keys replace the whole list", async () => {
    const session = await create({
      keys: [{ publicKey: ed25519KeyLine() }],
      externalId: "keep-me",
      sshBanner: "banner",
      maxAttempts: 4,
      timeout: 600,
    });
    const replacement = ed25519KeyLine();
    const updated = (
      await graphqlData(gateway, UPDATE, { id: session.id, input: { sshBanner: null, maxAttempts: null, keys: [{ publicKey: replacement }] } })
    ).updateVerifySession;
    expect(updated).toMatchObject({ externalId: "keep-me", sshBanner: null, maxAttempts: 1, expiredAt: session.expiredAt });
    expect(updated.keys.map((key: { publicKeySsh: string }) => key.publicKeySsh)).toEqual([parsePublicKey(replacement).ssh]);

    const cleared = (await graphqlData(gateway, UPDATE, { id: session.id, input: { timeout: null, externalId: null } }))
      .updateVerifySession;
    expect(cleared).toMatchObject({ externalId: null, expiredAt: null, sshBanner: null, maxAttempts: 1 });
    expect(cleared.keys).toEqual(updated.keys);
  });

  it("refuses an update once the session is no longer pending (CONFLICT) and leaves it as it was", async () => {
    const line = ed25519KeyLine();
    const session = await create({ keys: [{ publicKey: line }] });
    await recordConnection(gateway.services, session.id, [{ keyLine: line, sessionKeyId: session.keys[0].id }]);
    const result = await graphql(gateway, UPDATE, { id: session.id, input: { externalId: "late" } });
    expect(result.errors).toEqual([expect.objectContaining({ path: ["updateVerifySession"], extensions: { code: "CONFLICT" } })]);
    expect((await graphqlData(gateway, GET, { id: session.id })).verifySession.externalId).toBeNull();
  });

  it("completes a multi-connection session: FAILED without a satisfying connection, then CONFLICT", async () => {
    const session = await create({ keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true });
    const COMPLETE = `mutation($id: ID!) { completeVerifySession(id: $id) { id status } }`;
    expect((await graphqlData(gateway, COMPLETE, { id: session.id })).completeVerifySession).toEqual({ id: session.id, status: "FAILED" });
    const again = await graphql(gateway, COMPLETE, { id: session.id });
    expect(again.errors?.[0].extensions?.code).toBe("CONFLICT");
  });

  it("completes a multi-connection session that a connection satisfied as VERIFIED", async () => {
    const line = ed25519KeyLine();
    const session = await create({ keys: [{ publicKey: line }], multiConnection: true });
    await recordConnection(gateway.services, session.id, [{ keyLine: line, sessionKeyId: session.keys[0].id }]);
    const data = await graphqlData(gateway, `mutation($id: ID!) { completeVerifySession(id: $id) { status } }`, { id: session.id });
    expect(data.completeVerifySession.status).toBe("VERIFIED");
  });

  it("deletes a session and returns its id; afterwards it reads as null and deleting again is NOT_FOUND", async () => {
    const session = await create({ keys: [{ publicKey: ed25519KeyLine() }] });
    const DELETE = `mutation($id: ID!) { deleteVerifySession(id: $id) }`;
    expect(await graphqlData(gateway, DELETE, { id: session.id })).toEqual({ deleteVerifySession: session.id });
    expect(await graphqlData(gateway, `query($id: ID!) { verifySession(id: $id) { id } node(id: $id) { id } }`, { id: session.id })).toEqual({
      verifySession: null,
      node: null,
    });
    const again = await graphql(gateway, DELETE, { id: session.id });
    expect(again.errors?.[0]).toMatchObject({ message: "verify session not found", extensions: { code: "NOT_FOUND" } });
  });

  it("reads another project's session as null and answers NOT_FOUND to every mutation on it", async () => {
    const session = await create({ keys: [{ publicKey: ed25519KeyLine() }] });
    const asOther = (query: string, variables: Record<string, unknown>) => graphql(gateway, query, variables, { apiKey: otherProjectKey });
    const read = await asOther(`query($id: ID!) { verifySession(id: $id) { id } node(id: $id) { id } }`, { id: session.id });
    expect(read).toMatchObject({ status: 200, data: { verifySession: null, node: null } });
    expect(read.errors).toBeUndefined();
    const list = await asOther(`{ verifySessions { totalCount edges { node { id } } } }`, {});
    expect(list.data.verifySessions).toEqual({ totalCount: 0, edges: [] });
    for (const mutation of [
      `mutation($id: ID!) { updateVerifySession(id: $id, input: { externalId: "x" }) { id } }`,
      `mutation($id: ID!) { completeVerifySession(id: $id) { id } }`,
      `mutation($id: ID!) { deleteVerifySession(id: $id) }`,
    ]) {
      const result = await asOther(mutation, { id: session.id });
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
    }
    expect((await graphqlData(gateway, GET, { id: session.id })).verifySession.id).toBe(session.id);
  });

  it("filters the list by status and external id", async () => {
    const line = ed25519KeyLine();
    const verified = await create({ keys: [{ publicKey: line }], externalId: "filter-me" });
    await recordConnection(gateway.services, verified.id, [{ keyLine: line, sessionKeyId: verified.keys[0].id }]);
    const pending = await create({ keys: [{ publicKey: ed25519KeyLine() }], externalId: "filter-me" });
    const LIST = `query($filter: VerifySessionFilter) { verifySessions(filter: $filter) { totalCount edges { node { id status } } } }`;
    const byExternalId = await graphqlData(gateway, LIST, { filter: { externalId: "filter-me" } });
    expect(byExternalId.verifySessions).toEqual({
      totalCount: 2,
      edges: [{ node: { id: pending.id, status: "PENDING" } }, { node: { id: verified.id, status: "VERIFIED" } }],
    });
    const byStatus = await graphqlData(gateway, LIST, { filter: { externalId: "filter-me", status: "VERIFIED" } });
    expect(byStatus.verifySessions).toEqual({ totalCount: 1, edges: [{ node: { id: verified.id, status: "VERIFIED" } }] });
  });

  it("refuses requests without a valid API key with UNAUTHENTICATED and HTTP 401", async () => {
    for (const apiKey of [null, "not-a-key"]) {
      const result = await graphql(gateway, `{ verifySessions { totalCount } }`, {}, { apiKey });
      expect(result.status).toBe(401);
      expect(result.data).toBeUndefined();
      expect(result.errors).toEqual([{ message: expect.any(String), extensions: { code: "UNAUTHENTICATED" } }]);
    }
  });

  it("answers a body that is not JSON with 400 and a GraphQL error, never HTML", async () => {
    const response = await gateway.request("POST", "/graphql", { rawBody: "{ not json", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    expect(response.json.errors[0].extensions.code).toBe("BAD_REQUEST");
  });

  it("answers a body over 1 MiB with 413 and a GraphQL error", async () => {
    const query = `{ verifySessions { totalCount } } ${"#".repeat(1024 * 1024)}`;
    const response = await gateway.request("POST", "/graphql", { body: { query } });
    expect(response.status).toBe(413);
    expect(response.json.errors).toEqual([{ message: "request body is larger than 1 MiB", extensions: { code: "BAD_REQUEST" } }]);
  });
});

describe("the ssh command with PUBLIC_SSH_HOST", () => {
  it("shows the public host instead of the host the API was reached at", async () => {
    const gateway = await startTestGateway("sqlite", { PUBLIC_SSH_HOST: "ssh.example.com" });
    try {
      const data = await graphqlData(gateway, CREATE, { input: { keys: [{ publicKey: ed25519KeyLine() }] } });
      const { connectionIdentifier, sshCommand } = data.createVerifySession;
      expect(sshCommand).toBe(`ssh -p ${gateway.sshPort} ${connectionIdentifier}@ssh.example.com`);
    } finally {
      await gateway.stop();
    }
  });
});
