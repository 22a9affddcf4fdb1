import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphql, graphqlData } from "./support/graphql-client.js";
import { ed25519KeyLine, recordConnection } from "../support/ssh-activity.js";

const SESSION_FIELDS = `
  id connectionIdentifier sshCommand status externalId multiConnection multiKey mustConfirm sshBanner sshMessage
  expiredAt createdAt updatedAt
  keys { id publicKeyAlgorithm publicKeySha256 publicKeySsh createdAt }
  connections { id ipAddress keys { id sessionKeyId name publicKeySha256 } }
  webhooks { id events }
`;

const CREATE = `mutation($input: CreateCollectSessionInput!) { createCollectSession(input: $input) { ${SESSION_FIELDS} } }`;
const GET = `query($id: ID!) { collectSession(id: $id) { ${SESSION_FIELDS} } }`;

describe.each(databaseKinds())("collect sessions over GraphQL on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const create = async (input: Record<string, unknown> = {}) => (await graphqlData(gateway, CREATE, { input })).createCollectSession;

  it("creates a session with the defaults: no keys, no connections, the ssh command to run", async () => {
    const session = await create();
    expect(session).toMatchObject({
      status: "PENDING",
      sshCommand: `ssh -p ${gateway.sshPort} ${session.connectionIdentifier}@127.0.0.1`,
      externalId: null,
      multiConnection: false,
      multiKey: false,
      mustConfirm: false,
      expiredAt: null,
      keys: [],
      connections: [],
      webhooks: [],
    });
  });

  it("shows the keys a connection collected, as the session's keys and on the connection", async () => {
    const lines = [ed25519KeyLine(), ed25519KeyLine()];
    const session = await create({ multiKey: true, webhooks: [{ url: "https://hooks.example.com", events: ["KEY_COLLECTED"] }] });
    await recordConnection(
      gateway.services,
      session.id,
      lines.map((keyLine) => ({ keyLine, sessionKeyId: null })),
    );
    const read = (await graphqlData(gateway, GET, { id: session.id })).collectSession;
    const fingerprints = lines.map((line) => parsePublicKey(line).sha256);
    expect(read.status).toBe("COMPLETED");
    expect(read.keys.map((key: { publicKeySha256: string }) => key.publicKeySha256)).toEqual(fingerprints);
    expect(read.connections).toEqual([
      {
        id: expect.any(String),
        ipAddress: "203.0.113.7",
        keys: fingerprints.map((publicKeySha256) => ({ id: expect.any(String), sessionKeyId: null, name: null, publicKeySha256 })),
      },
    ]);
    expect(read.webhooks).toEqual([{ id: expect.any(String), events: ["KEY_COLLECTED"] }]);
  });

  it("lists collect sessions apart from verify sessions, with their parts", async () => {
    const session = await create({ externalId: "listed" });
    await recordConnection(gateway.services, session.id, [{ keyLine: ed25519KeyLine(), sessionKeyId: null }]);
    const data = await graphqlData(
      gateway,
      `{ collectSessions(filter: { externalId: "listed" }) { totalCount edges { node { id status keys { publicKeySsh } connections { keys { publicKeySsh } } } } }
         verifySessions { totalCount } }`,
    );
    expect(data.verifySessions.totalCount).toBe(0);
    expect(data.collectSessions.totalCount).toBe(1);
    const [{ node }] = data.collectSessions.edges;
    expect(node).toMatchObject({ id: session.id, status: "COMPLETED" });
    expect(node.connections[0].keys).toEqual(node.keys);
  });

  it("reads through node(id) as a CollectSession and as null through verifySession(id)", async () => {
    const session = await create();
    const data = await graphqlData(
      gateway,
      `query($id: ID!) { node(id: $id) { __typename ... on CollectSession { status } } verifySession(id: $id) { id } }`,
      { id: session.id },
    );
    expect(data).toEqual({ node: { __typename: "CollectSession", status: "PENDING" }, verifySession: null });
  });

  it("updates as a merge patch, completes a multi-connection session and deletes it", async () => {
    const session = await create({ multiConnection: true, sshBanner: "hello", externalId: "patch-me" });
    const updated = await graphqlData(
      gateway,
      `mutation($id: ID!) { updateCollectSession(id: $id, input: { sshBanner: null, timeout: 300 }) { sshBanner externalId expiredAt } }`,
      { id: session.id },
    );
    expect(updated.updateCollectSession).toMatchObject({ sshBanner: null, externalId: "patch-me", expiredAt: expect.any(String) });
    const completed = await graphqlData(gateway, `mutation($id: ID!) { completeCollectSession(id: $id) { status } }`, { id: session.id });
    expect(completed.completeCollectSession.status).toBe("COMPLETED");
    expect(await graphqlData(gateway, `mutation($id: ID!) { deleteCollectSession(id: $id) }`, { id: session.id })).toEqual({
      deleteCollectSession: session.id,
    });
    expect((await graphqlData(gateway, GET, { id: session.id })).collectSession).toBeNull();
  });

  it("does not act on a verify session through a collect mutation", async () => {
    const verify = await graphqlData(
      gateway,
      `mutation($key: String!) { createVerifySession(input: { keys: [{ publicKey: $key }] }) { id } }`,
      { key: ed25519KeyLine() },
    );
    const result = await graphql(gateway, `mutation($id: ID!) { deleteCollectSession(id: $id) }`, { id: verify.createVerifySession.id });
    expect(result.errors?.[0]).toMatchObject({ message: "collect session not found", extensions: { code: "NOT_FOUND" } });
  });
});
