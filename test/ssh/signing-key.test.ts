import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateHostKey } from "../../src/services/host-keys.service.js";
import { parseSigningKey } from "../../src/ssh/signing-key.js";
import { ed25519KeyLine } from "../rest/support/rest-fixtures.js";

const { utils } = ssh2;

const data = Buffer.from("the exchange hash of a key exchange");

function ssh2Parsed(text: string): ssh2.ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error("unparsable test key");
  return parsed;
}

describe("parseSigningKey", () => {
  it.each([
    // ssh2 writes an unreadable ed25519 key about once in 256; generateHostKey makes another then.
    ["ed25519", () => generateHostKey("ssh-ed25519"), [undefined]],
    ["RSA", () => utils.generateKeyPairSync("rsa", { bits: 2048 }).private, [undefined, "sha256", "sha512"]],
  ] as const)("signs %s byte for byte as ssh2 does, for every hash ssh2 asks for", (_name, generate, hashes) => {
    const text = generate();
    const ours = parseSigningKey(text);
    const theirs = ssh2Parsed(text);

    for (const hash of hashes) expect(ours.sign(data, hash)).toEqual(theirs.sign(data, hash));
  });

  it.each([256, 384, 521] as const)("signs with ecdsa-sha2-nistp%i keys so that ssh2 verifies the signature", (bits) => {
    const text = utils.generateKeyPairSync("ecdsa", { bits }).private;
    const signature = parseSigningKey(text).sign(data);

    expect(ssh2Parsed(text).verify(data, signature)).toBe(true);
  });

  it("keeps ssh2's public parts of the key", () => {
    const text = generateHostKey("ssh-ed25519");

    expect(parseSigningKey(text).getPublicSSH()).toEqual(ssh2Parsed(text).getPublicSSH());
  });

  it("refuses a public key or text that is no key", () => {
    expect(() => parseSigningKey(ed25519KeyLine())).toThrow("not a private key");
    expect(() => parseSigningKey("not a key")).toThrow();
  });
});
