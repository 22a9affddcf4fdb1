import http from "node:http";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem } from "./support/rest-fixtures.js";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** GET with an explicit Host header, which fetch does not let a caller set. */
function getWithHost(url: string, host: string, apiKey: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host, "x-api-key": apiKey } }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (data: string) => (text += data));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      })
      .on("error", reject);
  });
}

describe.each(databaseKinds())("OpenAPI document, JSON Schemas and docs on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("serves /openapi.json as a valid OpenAPI 3.1 document, without an API key", async () => {
    const response = await gateway.request("GET", "/openapi.json", { apiKey: null });
    expect(response.status).toBe(200);
    expect(response.json.openapi).toBe("3.1.0");
    const result = await new Validator().validate(response.json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents every route of SPEC §4 this layer serves, for both session kinds", async () => {
    const { paths } = (await gateway.request("GET", "/openapi.json")).json;
    const documented = Object.entries(paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = ["GET /api/v1/auth/info/"];
    for (const kindName of ["verify", "collect"]) {
      const base = `/api/v1/ssh/${kindName}/sessions/`;
      expected.push(`GET ${base}`, `POST ${base}`, `GET ${base}{session}/`, `PATCH ${base}{session}/`, `DELETE ${base}{session}/`);
      expected.push(`POST ${base}{session}/complete/`);
    }
    expect(documented).toEqual(expect.arrayContaining(expected));
  });

  it("builds the OpenAPI components from exactly the schemas served at /schemas/", async () => {
    const document = (await gateway.request("GET", "/openapi.json")).json;
    const names = Object.keys(document.components.schemas);
    expect(names).toEqual(expect.arrayContaining(["ErrorModel", "VerifySessionDetail", "CollectSessionList", "AuthInfo"]));
    const ajv = new Ajv2020({ allErrors: true, loadSchema: async (uri) => (await fetch(uri)).json() as Promise<Record<string, unknown>> });
    addFormats(ajv);
    for (const name of names) {
      const served = await gateway.request("GET", `/schemas/${name}.json`, { apiKey: null });
      expect(served.status).toBe(200);
      expect(served.json.$id).toBe(`${gateway.httpUrl}/schemas/${name}.json`);
      expect(served.json.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      const { $schema: _dialect, $id: _id, ...body } = served.json;
      const component = JSON.parse(JSON.stringify(body).replace(/"([A-Za-z]+)\.json"/g, '"#/components/schemas/$1"'));
      expect(document.components.schemas[name]).toEqual(component);
      if (!ajv.getSchema(served.json.$id)) await ajv.compileAsync(served.json);
    }
    expectProblem(await gateway.request("GET", "/schemas/Nope.json"), 404);
    expectProblem(await gateway.request("GET", "/schemas/ErrorModel%2F..%2Fpackage.json"), 404);
  });

  it("answers 200 with a JSON Schema at every $schema URL a response carries", async () => {
    const created = await gateway.request("POST", "/api/v1/ssh/verify/sessions/", { body: { keys: [{ public_key: ed25519KeyLine() }] } });
    const responses = [
      created,
      await gateway.request("GET", "/api/v1/ssh/verify/sessions/"),
      await gateway.request("GET", "/api/v1/ssh/collect/sessions/"),
      await gateway.request("POST", "/api/v1/ssh/collect/sessions/"),
      await gateway.request("GET", "/api/v1/auth/info/"),
      await gateway.request("GET", "/api/v1/ssh/verify/sessions/?limit=0"),
    ];
    for (const response of responses) {
      const url = response.json.$schema as string;
      expect(url.startsWith(`${gateway.httpUrl}/schemas/`)).toBe(true);
      expect(response.headers.get("link")).toBe(`<${url.slice(gateway.httpUrl.length)}>; rel="describedBy"`);
      const schema = await fetch(url);
      expect(schema.status).toBe(200);
      expect(((await schema.json()) as { $schema: string }).$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    }
  });

  it("takes $schema URLs from the request's Host when PUBLIC_URL is not set", async () => {
    const response = await getWithHost(`${gateway.httpUrl}/api/v1/auth/info/`, "gateway.test:8443", gateway.apiKey);
    expect(response.body.$schema).toBe("http://gateway.test:8443/schemas/AuthInfo.json");
    const hostile = await getWithHost(`${gateway.httpUrl}/api/v1/auth/info/`, "evil.test/<script>", gateway.apiKey);
    // A Host that is not a plain host[:port] is never repeated: the address the request came in on is used.
    expect(hostile.body.$schema).toBe(`${gateway.httpUrl}/schemas/AuthInfo.json`);
  });

  it("renders /docs offline: Swagger UI from the installed package, no CDN", async () => {
    const page = await gateway.request("GET", "/docs", { apiKey: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/https?:\/\/|\/\/cdn/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(assets).toEqual(expect.arrayContaining(["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/docs-init.js"]));
    for (const asset of assets) {
      const response = await gateway.request("GET", asset, { apiKey: null });
      expect(response.status, asset).toBe(200);
      expect(response.text.length).toBeGreaterThan(0);
    }
    const init = await gateway.request("GET", "/docs/docs-init.js");
    expect(init.text).toContain('url: "/openapi.json"');
    expect(init.text).toContain("validatorUrl: null");
    expect((await gateway.request("GET", "/docs/swagger-ui-bundle.js")).text.length).toBeGreaterThan(100_000);
  });
});

describe.each(databaseKinds())("$schema URLs under PUBLIC_URL on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind, { PUBLIC_URL: "https://verify.example.com" });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("uses PUBLIC_URL as the base of $schema URLs, in answers, problems and served schemas", async () => {
    const info = await gateway.request("GET", "/api/v1/auth/info/");
    expect(info.json.$schema).toBe("https://verify.example.com/schemas/AuthInfo.json");
    const problem = await gateway.request("GET", "/api/v1/auth/info/", { apiKey: "wrong" });
    expect(problem.json.$schema).toBe("https://verify.example.com/schemas/ErrorModel.json");
    const schema = await gateway.request("GET", "/schemas/AuthInfo.json");
    expect(schema.json.$id).toBe("https://verify.example.com/schemas/AuthInfo.json");
  });
});
