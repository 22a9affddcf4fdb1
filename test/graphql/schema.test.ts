import { readFileSync } from "node:fs";
import { assertEnumType, assertObjectType, buildSchema as parseSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { printGatewaySchema } from "../../src/graphql/schema.js";

const SCHEMA_FILE = new URL("../../schema/schema.graphql", import.meta.url);

describe("schema/schema.graphql", () => {
  it("is the SDL the code defines (run `npm run schema:emit` after changing the schema)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(printGatewaySchema());
  });

  it("holds the surface of SPEC §5 under its names", () => {
    const schema = parseSchema(readFileSync(SCHEMA_FILE, "utf8"));
    const fields = (type: string) => Object.keys(assertObjectType(schema.getType(type)).getFields());
    expect(fields("Query")).toEqual(expect.arrayContaining(["verifySessions", "collectSessions", "verifySession", "collectSession", "node"]));
    expect(fields("Mutation")).toEqual(
      expect.arrayContaining(
        ["Verify", "Collect"].flatMap((kind) => [`create${kind}Session`, `update${kind}Session`, `complete${kind}Session`, `delete${kind}Session`]),
      ),
    );
    expect(fields("VerifySessionConnection")).toEqual(["edges", "pageInfo", "totalCount"]);
    expect(fields("PageInfo")).toEqual(["endCursor", "hasNextPage", "hasPreviousPage", "startCursor"]);
    expect(fields("VerifySession")).toEqual(
      expect.arrayContaining([
        "connectionIdentifier", "externalId", "matchAllKeys", "maxAttempts", "multiConnection", "multiKey", "mustConfirm",
        "sshBanner", "sshMessage", "expiredAt", "createdAt", "updatedAt", "keys", "connections", "webhooks", "sshCommand",
      ]),
    );
    const values = (type: string) => assertEnumType(schema.getType(type)).getValues().map((value) => value.name);
    expect(values("VerifySessionStatus")).toEqual(["EXPIRED", "FAILED", "PENDING", "VERIFIED"]);
    expect(values("CollectSessionStatus")).toEqual(["COMPLETED", "EXPIRED", "PENDING"]);
  });
});
