import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshString } from "../ssh/support/ssh-packets.js";
import {
  MIN_RSA_BITS,
  parsePublicKey,
  parsePublicKeyBlob,
  PublicKeyError,
  type ParsedPublicKey,
  type PublicKeyAlgorithm,
  type PublicKeyErrorCode,
} from "../../src/domain/public-keys.js";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";

interface KeySpec {
  name: string;
  keygenArgs: string[];
  algorithm: PublicKeyAlgorithm;
  bits: number;
}

const KEYS: KeySpec[] = [
  { name: "ed25519", keygenArgs: ["-t", "ed25519"], algorithm: "ssh-ed25519", bits: 256 },
  { name: "ecdsa-256", keygenArgs: ["-t", "ecdsa", "-b", "256"], algorithm: "ecdsa-sha2-nistp256", bits: 256 },
  { name: "ecdsa-384", keygenArgs: ["-t", "ecdsa", "-b", "384"], algorithm: "ecdsa-sha2-nistp384", bits: 384 },
  { name: "ecdsa-521", keygenArgs: ["-t", "ecdsa", "-b", "521"], algorithm: "ecdsa-sha2-nistp521", bits: 521 },
  { name: "rsa-2048", keygenArgs: ["-t", "rsa", "-b", "2048"], algorithm: "ssh-rsa", bits: 2048 },
  { name: "rsa-4096", keygenArgs: ["-t", "rsa", "-b", "4096"], algorithm: "ssh-rsa", bits: 4096 },
];

type Format = "OpenSSH line" | "RFC 4716 block" | "SPKI PEM" | "PKCS#1 PEM";
const formatsOf = (key: KeySpec): Format[] =>
  key.algorithm === "ssh-rsa" ? ["OpenSSH line", "RFC 4716 block", "SPKI PEM", "PKCS#1 PEM"] : ["OpenSSH line", "RFC 4716 block", "SPKI PEM"];

interface Fixture {
  privateKeyFile: string;
  pubFile: string;
  pubLine: string;
  sha256: string;
  md5: string;
  expectedPem: string;
  texts: Map<Format, string>;
}

let dir = "";
const fixtures = new Map<string, Fixture>();
let certificateLine = "";
let rsa1024Line = "";

function keygen(...args: string[]): string {
  return execFileSync(SSH_KEYGEN, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function fixture(name: string): Fixture {
  const found = fixtures.get(name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}


const blobOf = (pubLine: string): Buffer => Buffer.from(pubLine.split(" ")[1] ?? "", "base64");
const lineOf = (blob: Buffer, type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()): string =>
  `${type} ${blob.toString("base64")} comment`;

/** ssh-keygen 9.2 cannot export Ed25519 as PKCS#8, so wrap the raw key in the fixed SPKI prefix (RFC 8410). */
function ed25519SpkiPem(pubLine: string): string {
  const raw = blobOf(pubLine).subarray(-32);
  const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]);
  return createPublicKey({ key: der, format: "der", type: "spki" }).export({ type: "spki", format: "pem" }).toString();
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectPublicKeyError(fn: () => unknown, code: PublicKeyErrorCode, message?: RegExp): void {
  const error = caught(fn);
  expect(error).toBeInstanceOf(PublicKeyError);
  if (!(error instanceof PublicKeyError)) return;
  expect(error.code, error.message).toBe(code);
  expect(error.message.length).toBeGreaterThan(10);
  if (message !== undefined) expect(error.message).toMatch(message);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "public-keys-test-"));
  for (const key of KEYS) {
    const file = join(dir, key.name);
    keygen(...key.keygenArgs, "-N", "", "-q", "-C", "comment", "-f", file);
    const pubFile = `${file}.pub`;
    const pubLine = readFileSync(pubFile, "utf8").trim();
    const spki = key.algorithm === "ssh-ed25519" ? ed25519SpkiPem(pubLine) : keygen("-e", "-m", "PKCS8", "-f", pubFile);
    const texts = new Map<Format, string>([
      ["OpenSSH line", readFileSync(pubFile, "utf8")],
      ["RFC 4716 block", keygen("-e", "-m", "RFC4716", "-f", pubFile)],
      ["SPKI PEM", spki],
    ]);
    if (key.algorithm === "ssh-rsa") texts.set("PKCS#1 PEM", keygen("-e", "-m", "PEM", "-f", pubFile));
    fixtures.set(key.name, {
      privateKeyFile: file,
      pubFile,
      pubLine,
      sha256: keygen("-l", "-E", "sha256", "-f", pubFile).split(" ")[1] ?? "",
      md5: keygen("-l", "-E", "md5", "-f", pubFile).split(" ")[1] ?? "",
      expectedPem: createPublicKey(spki).export({ type: "spki", format: "pem" }).toString(),
      texts,
    });
  }

  const ca = join(dir, "ca");
  keygen("-t", "ed25519", "-N", "", "-q", "-C", "ca", "-f", ca);
  keygen("-s", ca, "-I", "id", "-n", "user", "-q", fixture("ed25519").pubFile);
  certificateLine = readFileSync(join(dir, "ed25519-cert.pub"), "utf8");

  // Newer ssh-keygen refuses 1024-bit RSA; fall back to node and build the OpenSSH line from its JWK.
  try {
    keygen("-t", "rsa", "-b", "1024", "-N", "", "-q", "-C", "short", "-f", join(dir, "rsa-1024"));
    rsa1024Line = readFileSync(join(dir, "rsa-1024.pub"), "utf8");
  } catch {
    const jwk = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" });
    const mpint = (v: string | undefined): Buffer => {
      const raw = Buffer.from(v ?? "", "base64url");
      return sshString((raw[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), raw]) : raw);
    };
    rsa1024Line = lineOf(Buffer.concat([sshString("ssh-rsa"), mpint(jwk.e), mpint(jwk.n)]));
  }
});

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("parsePublicKey with keys generated by ssh-keygen", () => {
  for (const key of KEYS) {
    for (const format of formatsOf(key)) {
      describe(`${key.name} key as ${format}`, () => {
        const parse = (): ParsedPublicKey => parsePublicKey(fixture(key.name).texts.get(format) ?? "");

        it(`is recognised as ${key.algorithm} with ${key.bits} bits`, () => {
          const parsed = parse();
          expect(parsed.algorithm).toBe(key.algorithm);
          expect(parsed.bits).toBe(key.bits);
        });

        it(`matches ssh-keygen's SHA256 fingerprint for ${key.name}`, () => {
          expect(parse().sha256).toBe(fixture(key.name).sha256);
        });

        it(`matches ssh-keygen's MD5 fingerprint for ${key.name}`, () => {
          expect(parse().md5).toBe(fixture(key.name).md5);
        });

        it("gives the .pub file's type and base64 fields, without the comment", () => {
          expect(parse().ssh).toBe(fixture(key.name).pubLine.split(" ").slice(0, 2).join(" "));
          expect(parse().blob.equals(blobOf(fixture(key.name).pubLine))).toBe(true);
        });

        it("exports the SPKI PEM node gives for the key, and that PEM parses back to the same key", () => {
          const parsed = parse();
          expect(parsed.pem).toBe(fixture(key.name).expectedPem);
          expect(parsed.pem.startsWith("-----BEGIN PUBLIC KEY-----\n")).toBe(true);
          expect(parsed.pem.endsWith("-----END PUBLIC KEY-----\n")).toBe(true);
          expect(createPublicKey(parsed.pem).equals(createPublicKey(fixture(key.name).expectedPem))).toBe(true);
          expect(parsePublicKey(parsed.pem)).toEqual(parsed);
        });

        it("gives the same result from parsePublicKeyBlob(parsed.blob)", () => {
          const parsed = parse();
          expect(parsePublicKeyBlob(parsed.blob)).toEqual(parsed);
        });
      });
    }
  }
});

describe("parsePublicKey input tolerance", () => {
  it("accepts every format with CRLF line endings and surrounding whitespace", () => {
    for (const key of KEYS) {
      for (const text of fixture(key.name).texts.values()) {
        const parsed = parsePublicKey(`\r\n  \t${text.replace(/\n/g, "\r\n")}  \r\n\r\n`);
        expect(parsed.sha256).toBe(fixture(key.name).sha256);
      }
    }
  });

  it("accepts an OpenSSH line without a comment, or with a comment containing spaces", () => {
    const { pubLine, sha256 } = fixture("ed25519");
    const [type, base64] = pubLine.split(" ");
    expect(parsePublicKey(`${type} ${base64}`).sha256).toBe(sha256);
    expect(parsePublicKey(`${type}\t${base64}   alice's laptop (work)`).sha256).toBe(sha256);
  });

  it("accepts an RFC 4716 block with backslash-continued headers and a re-wrapped body", () => {
    const { pubLine, sha256 } = fixture("rsa-4096");
    const body = (pubLine.split(" ")[1] ?? "").match(/.{1,40}/g) ?? [];
    const block = [
      "---- BEGIN SSH2 PUBLIC KEY ----",
      'Comment: "a very long comment that goes on \\',
      'and on over a second line \\',
      'and a third"',
      "x-private-header: value",
      ...body,
      "---- END SSH2 PUBLIC KEY ----",
    ].join("\n");
    expect(parsePublicKey(block).sha256).toBe(sha256);
  });
});

describe("parsePublicKey errors", () => {
  it("rejects empty or whitespace-only input as EMPTY", () => {
    expectPublicKeyError(() => parsePublicKey(""), "EMPTY");
    expectPublicKeyError(() => parsePublicKey("  \r\n\t "), "EMPTY");
  });

  it("rejects text that is no known format as UNRECOGNIZED_FORMAT", () => {
    for (const garbage of ["hello world", "not a key at all", '{"key":"AAAA"}', "AAAAC3NzaC1lZDI1NTE5AAAAIA==", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]) {
      expectPublicKeyError(() => parsePublicKey(garbage), "UNRECOGNIZED_FORMAT");
    }
  });

  it("rejects authorized_keys options in front of the key as UNRECOGNIZED_FORMAT, saying why", () => {
    const { pubLine } = fixture("ed25519");
    expectPublicKeyError(() => parsePublicKey(`restrict,command="echo hi there" ${pubLine}`), "UNRECOGNIZED_FORMAT", /options/);
    expectPublicKeyError(() => parsePublicKey(`no-pty ${pubLine}`), "UNRECOGNIZED_FORMAT", /options/);
  });

  it("rejects a truncated base64 body as MALFORMED", () => {
    const { pubLine } = fixture("ed25519");
    const [type, base64 = ""] = pubLine.split(" ");
    expectPublicKeyError(() => parsePublicKey(`${type} ${base64.slice(0, 40)}`), "MALFORMED");
    expectPublicKeyError(() => parsePublicKey(`${type} ${base64.slice(0, -3)}`), "MALFORMED", /base64/);
    expectPublicKeyError(() => parsePublicKey(`${type}`), "MALFORMED", /missing/);
    const rfc = fixture("rsa-2048").texts.get("RFC 4716 block") ?? "";
    const lines = rfc.trim().split("\n");
    expectPublicKeyError(() => parsePublicKey([...lines.slice(0, -2), lines.at(-1)].join("\n")), "MALFORMED");
    const pem = fixture("ecdsa-384").texts.get("SPKI PEM") ?? "";
    expectPublicKeyError(() => parsePublicKey(pem.replace(/\n[^\n]*\n-----END/, "\n-----END")), "MALFORMED");
  });

  it("rejects a blob with a bit-flipped length field or trailing bytes as MALFORMED", () => {
    const blob = blobOf(fixture("ed25519").pubLine);
    const flippedLength = Buffer.from(blob);
    flippedLength[18] = (flippedLength[18] ?? 0) ^ 0x01; // the key's length: 32 -> 33
    expectPublicKeyError(() => parsePublicKeyBlob(flippedLength), "MALFORMED");
    const hugeLength = Buffer.from(blob);
    hugeLength[0] = 0x80;
    expectPublicKeyError(() => parsePublicKeyBlob(hugeLength), "MALFORMED");
    const trailing = Buffer.concat([blob, Buffer.of(0)]);
    expectPublicKeyError(() => parsePublicKeyBlob(trailing), "MALFORMED", /trailing/);
    expectPublicKeyError(() => parsePublicKey(lineOf(trailing)), "MALFORMED", /trailing/);
    expectPublicKeyError(() => parsePublicKeyBlob(blob.subarray(0, 20)), "MALFORMED");
    expectPublicKeyError(() => parsePublicKeyBlob(Buffer.alloc(0)), "MALFORMED");
  });

  it("rejects an ECDSA point that is not on the curve as MALFORMED", () => {
    const blob = Buffer.from(blobOf(fixture("ecdsa-256").pubLine));
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 0x01;
    expectPublicKeyError(() => parsePublicKeyBlob(blob), "MALFORMED");
  });

  it("rejects a non-canonical RSA mpint (extra leading zero) as MALFORMED", () => {
    const blob = blobOf(fixture("rsa-2048").pubLine);
    const eLength = blob.readUInt32BE(11);
    const nAt = 15 + eLength;
    const n = blob.subarray(nAt + 4);
    const padded = Buffer.concat([blob.subarray(0, nAt), sshString(Buffer.concat([Buffer.of(0), n]))]);
    expectPublicKeyError(() => parsePublicKeyBlob(padded), "MALFORMED", /canonical/);
  });

  it("rejects a line whose type field differs from the type inside the blob as MALFORMED", () => {
    const ed = fixture("ed25519").pubLine.split(" ")[1];
    expectPublicKeyError(() => parsePublicKey(`ssh-rsa ${ed} comment`), "MALFORMED", /ssh-ed25519/);
    const rsa = fixture("rsa-2048").pubLine.split(" ")[1];
    expectPublicKeyError(() => parsePublicKey(`rsa-sha2-256 ${rsa} comment`), "MALFORMED", /"ssh-rsa"/);
  });

  it("rejects FIDO security keys (sk-*) as SECURITY_KEY", () => {
    const skEd25519 = Buffer.concat([sshString("sk-ssh-ed25519@openssh.com"), sshString(randomBytes(32)), sshString("ssh:")]);
    expectPublicKeyError(() => parsePublicKeyBlob(skEd25519), "SECURITY_KEY");
    expectPublicKeyError(() => parsePublicKey(lineOf(skEd25519)), "SECURITY_KEY", /security.key/i);
    const ecPoint = blobOf(fixture("ecdsa-256").pubLine).subarray(-65);
    const skEcdsa = Buffer.concat([sshString("sk-ecdsa-sha2-nistp256@openssh.com"), sshString("nistp256"), sshString(ecPoint), sshString("ssh:")]);
    expectPublicKeyError(() => parsePublicKey(lineOf(skEcdsa)), "SECURITY_KEY");
  });

  it("rejects an OpenSSH certificate as CERTIFICATE", () => {
    expect(certificateLine.startsWith("ssh-ed25519-cert-v01@openssh.com ")).toBe(true);
    expectPublicKeyError(() => parsePublicKey(certificateLine), "CERTIFICATE", /certificate/);
    expectPublicKeyError(() => parsePublicKeyBlob(blobOf(certificateLine)), "CERTIFICATE");
  });

  it("rejects ssh-dss and other algorithms as UNSUPPORTED_ALGORITHM", () => {
    const mpint = (bytes: number): Buffer => sshString(Buffer.concat([Buffer.of(0x7f), randomBytes(bytes - 1)]));
    const dss = Buffer.concat([sshString("ssh-dss"), mpint(128), mpint(20), mpint(128), mpint(128)]);
    expectPublicKeyError(() => parsePublicKeyBlob(dss), "UNSUPPORTED_ALGORITHM", /ssh-dss/);
    expectPublicKeyError(() => parsePublicKey(lineOf(dss)), "UNSUPPORTED_ALGORITHM");
    expectPublicKeyError(() => parsePublicKeyBlob(Buffer.concat([sshString("ssh-foo"), sshString("x")])), "UNSUPPORTED_ALGORITHM");
    const rsaBody = blobOf(fixture("rsa-2048").pubLine).subarray(11);
    expectPublicKeyError(() => parsePublicKeyBlob(Buffer.concat([sshString("rsa-sha2-512"), rsaBody])), "UNSUPPORTED_ALGORITHM", /signature/);
    const pemOf = (key: KeyObject): string => key.export({ type: "spki", format: "pem" }).toString();
    expectPublicKeyError(() => parsePublicKey(pemOf(generateKeyPairSync("ed448").publicKey)), "UNSUPPORTED_ALGORITHM", /ed448/);
    expectPublicKeyError(() => parsePublicKey(pemOf(generateKeyPairSync("x25519").publicKey)), "UNSUPPORTED_ALGORITHM");
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expectPublicKeyError(() => parsePublicKey(k1), "UNSUPPORTED_ALGORITHM", /secp256k1/);
  });

  it(`rejects RSA keys under ${MIN_RSA_BITS} bits as RSA_TOO_SHORT, naming the bit count`, () => {
    expectPublicKeyError(() => parsePublicKey(rsa1024Line), "RSA_TOO_SHORT", /1024/);
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expectPublicKeyError(() => parsePublicKey(publicKey.export({ type: "spki", format: "pem" }).toString()), "RSA_TOO_SHORT", /1024 bits/);
    expectPublicKeyError(() => parsePublicKey(publicKey.export({ type: "pkcs1", format: "pem" }).toString()), "RSA_TOO_SHORT", /1024/);
  });

  it("rejects private keys as PRIVATE_KEY", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const privateKeys = [
      readFileSync(fixture("ed25519").privateKeyFile, "utf8"),
      readFileSync(fixture("rsa-2048").privateKeyFile, "utf8"),
      rsa.export({ type: "pkcs8", format: "pem" }).toString(),
      rsa.export({ type: "pkcs1", format: "pem" }).toString(),
      ec.export({ type: "sec1", format: "pem" }).toString(),
      rsa.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" }).toString(),
    ];
    for (const text of privateKeys) expectPublicKeyError(() => parsePublicKey(text), "PRIVATE_KEY", /private key/);
  });

  it("throws nothing but PublicKeyError for thousands of random and mutated inputs", () => {
    let seed = 0x5eed;
    const random = (limit: number): number => {
      // mulberry32: deterministic, so a failure is reproducible
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) % limit;
    };
    const randomBuffer = (length: number): Buffer => Buffer.from(Array.from({ length }, () => random(256)));
    const mutate = (blob: Buffer): Buffer => {
      const out = Buffer.from(blob);
      switch (random(5)) {
        case 0: {
          const at = random(out.length);
          out[at] = (out[at] ?? 0) ^ (1 << random(8));
          return out;
        }
        case 1:
          return out.subarray(0, random(out.length));
        case 2:
          return Buffer.concat([out, randomBuffer(1 + random(8))]);
        case 3:
          if (out.length >= 4) out.writeUInt32BE(random(2 ** 31) >>> random(31), random(out.length - 3));
          return out;
        default:
          out[random(out.length)] = random(256);
          return out;
      }
    };
    const blobs = [...KEYS.map((k) => blobOf(fixture(k.name).pubLine)), blobOf(certificateLine), blobOf(rsa1024Line)];
    const texts = KEYS.flatMap((k) => [...fixture(k.name).texts.values()]);
    const prefixes = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "ssh-dss"];
    const inputs: Array<() => unknown> = [];
    for (let i = 0; i < 1000; i++) {
      const blob = i % 2 === 0 ? randomBuffer(random(200)) : Buffer.concat([sshString(prefixes[random(prefixes.length)] ?? ""), randomBuffer(random(200))]);
      inputs.push(() => parsePublicKeyBlob(blob));
    }
    for (let i = 0; i < 2000; i++) {
      let blob = blobs[random(blobs.length)] ?? Buffer.alloc(0);
      for (let n = 1 + random(3); n > 0; n--) blob = mutate(blob);
      // Half the lines keep the blob's own (possibly mutated) type so they get past the type comparison.
      const ownType = blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1") : "ssh-rsa";
      const type = random(2) === 0 ? ownType : (prefixes[random(prefixes.length)] ?? "");
      inputs.push(i % 2 === 0 ? () => parsePublicKeyBlob(blob) : () => parsePublicKey(lineOf(blob, type)));
    }
    const alphabet = "AZaz09+/=-: \n\r\t\\\"#ssh-rsaBEGIN END PUBLIC KEY----";
    for (let i = 0; i < 1000; i++) {
      const chars = [...(texts[random(texts.length)] ?? "")];
      for (let n = 1 + random(4); n > 0; n--) {
        const at = random(chars.length + 1);
        if (random(2) === 0) chars.splice(at, 1 + random(8));
        else chars.splice(at, random(2), alphabet[random(alphabet.length)] ?? "");
      }
      const text = chars.join("");
      inputs.push(() => parsePublicKey(text));
    }
    inputs.push(() => parsePublicKey(randomBuffer(5000).toString("latin1")));
    inputs.push(() => parsePublicKey("ssh-ed25519 " + "A".repeat(100_000)));

    const unexpected: string[] = [];
    const outcomes = new Set<string>();
    for (const input of inputs) {
      const error = caught(input);
      if (error instanceof PublicKeyError) outcomes.add(error.code);
      else if (error === undefined) outcomes.add("parsed");
      else unexpected.push(String(error));
    }
    expect(inputs.length).toBeGreaterThan(4000);
    expect(unexpected.slice(0, 5)).toEqual([]);
    // The mutations must reach past the first length check, or the loop proves little.
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(["MALFORMED", "UNSUPPORTED_ALGORITHM", "UNRECOGNIZED_FORMAT", "CERTIFICATE", "SECURITY_KEY", "RSA_TOO_SHORT", "parsed"]));
  });
});
