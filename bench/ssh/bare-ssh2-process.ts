import net, { type AddressInfo } from "node:net";
import ssh2, { type Connection } from "ssh2";
import { generateHostKey } from "../../src/services/host-keys.service.js";
import { hasValidSignature, OfferedKeys } from "../../src/ssh/key-proof.js";
import { KEY_EXCHANGE_ALGORITHMS } from "../../src/ssh/ssh-server.js";
import { parseSigningKey } from "../../src/ssh/signing-key.js";
import { coalesceWrites } from "../../src/ssh/socket-writes.js";
import { useRawCurve25519Keys } from "../../src/ssh/ssh2-internals.js";
import { serveBenchmarkRequests } from "./server-process.js";

const { Server, utils } = ssh2;

/**
 * The floor: a bare ssh2 server that lets in any client proving a key by a valid signature, and records nothing.
 * As ssh2's documentation shows it (an ed25519 host key given as text), or with `--tuned` with everything the
 * gateway does to ssh2 itself (TCP_NODELAY, a tick's writes in one segment, host keys as key objects, raw
 * curve25519 keys, an offered key parsed once and its signature checked on the thread pool) and none of its work:
 * the gateway's own cost is then the difference.
 */
function main(): void {
  const tuned = process.argv.includes("--tuned");
  const hostKey = generateHostKey("ssh-ed25519");
  const server = tuned
    ? new Server({
        hostKeys: [{ key: parseSigningKey(hostKey) }],
        algorithms: { kex: KEY_EXCHANGE_ALGORITHMS },
        ident: "BareSsh2",
      })
    : new Server({ hostKeys: [hostKey], ident: "BareSsh2" });
  server.on("connection", (connection) => (tuned ? acceptTuned(connection) : acceptAsDocumented(connection)));
  const ready = (port: number) => {
    serveBenchmarkRequests({
      prepare: async (count) => Array.from({ length: count }, () => "bench"),
      verified: async (usernames) => usernames.length,
    });
    process.send?.({ type: "ready", port });
  };
  if (!tuned) {
    server.listen(0, "127.0.0.1", () => ready((server.address() as AddressInfo).port));
    return;
  }
  const listener = net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    coalesceWrites(socket);
    server.injectSocket(socket);
  });
  listener.listen(0, "127.0.0.1", () => ready((listener.address() as AddressInfo).port));
}

function acceptAsDocumented(connection: Connection): void {
  connection.on("error", () => undefined);
  connection.on("authentication", (request) => {
    if (request.method !== "publickey") return request.reject(["publickey"]);
    if (!request.signature || !request.blob) return request.accept();
    const key = utils.parseKey(request.key.data);
    const valid = !(key instanceof Error) && !Array.isArray(key) && key.verify(request.blob, request.signature, request.hashAlgo) === true;
    if (valid) request.accept();
    else request.reject();
  });
}

function acceptTuned(connection: Connection): void {
  useRawCurve25519Keys(connection);
  const offered = new OfferedKeys();
  connection.on("error", () => undefined);
  connection.on("authentication", (request) => {
    if (request.method !== "publickey") return request.reject(["publickey"]);
    const key = offered.provable(request);
    if (key === null) return request.reject(["publickey"]);
    if (!request.signature) return request.accept();
    void hasValidSignature(request, key).then((valid) => (valid ? request.accept() : request.reject(["publickey"])));
  });
}

main();
