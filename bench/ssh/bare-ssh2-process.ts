import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";
import { generateHostKey } from "../../src/services/host-keys.service.js";
import { serveBenchmarkRequests } from "./server-process.js";

const { Server, utils } = ssh2;

/**
 * The floor: a bare ssh2 server, written as ssh2's documentation shows (an ed25519 host key given as text), that
 * lets in any client proving a key by a valid signature, and records nothing.
 */
function main(): void {
  const hostKey = generateHostKey("ssh-ed25519");
  const server = new Server({ hostKeys: [hostKey], ident: "BareSsh2" }, (connection) => {
    connection.on("error", () => undefined);
    connection.on("authentication", (request) => {
      if (request.method !== "publickey") return request.reject(["publickey"]);
      if (!request.signature || !request.blob) return request.accept();
      const key = utils.parseKey(request.key.data);
      const valid = !(key instanceof Error) && !Array.isArray(key) && key.verify(request.blob, request.signature, request.hashAlgo) === true;
      if (valid) request.accept();
      else request.reject();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    serveBenchmarkRequests({
      prepare: async (count) => Array.from({ length: count }, () => "bench"),
      verified: async (usernames) => usernames.length,
    });
    process.send?.({ type: "ready", port: (server.address() as AddressInfo).port });
  });
}

main();
