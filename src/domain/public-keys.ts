// Parsing and fingerprinting of SSH public keys pasted by users or received on the wire.
import { Buffer } from "node:buffer";
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";

export type PublicKeyAlgorithm =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ecdsa-sha2-nistp384"
  | "ecdsa-sha2-nistp521"
  | "ssh-rsa";

export type PublicKeyErrorCode =
  | "EMPTY"
  | "UNRECOGNIZED_FORMAT"
  | "MALFORMED"
  | "UNSUPPORTED_ALGORITHM"
  | "SECURITY_KEY"
  | "CERTIFICATE"
  | "RSA_TOO_SHORT"
  | "PRIVATE_KEY";

export class PublicKeyError extends Error {
  readonly code: PublicKeyErrorCode;
  constructor(code: PublicKeyErrorCode, message: string) {
    super(message);
    this.name = "PublicKeyError";
    this.code = code;
  }
}

export interface ParsedPublicKey {
  algorithm: PublicKeyAlgorithm;
  bits: number;
  blob: Buffer;
  ssh: string;
  sha256: string;
  md5: string;
  pem: string;
}

export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 16384; // OpenSSH's own ceiling; also bounds the work a hostile key can cause
const MAX_INPUT_CHARS = 65536; // far above any real key, even with a long RFC 4716 comment

type EcAlgorithm = Exclude<PublicKeyAlgorithm, "ssh-ed25519" | "ssh-rsa">;
interface EcCurve { algorithm: EcAlgorithm; name: string; jwk: string; openssl: string; size: number; bits: number }
const EC_CURVES: readonly EcCurve[] = [
  { algorithm: "ecdsa-sha2-nistp256", name: "nistp256", jwk: "P-256", openssl: "prime256v1", size: 32, bits: 256 },
  { algorithm: "ecdsa-sha2-nistp384", name: "nistp384", jwk: "P-384", openssl: "secp384r1", size: 48, bits: 384 },
  { algorithm: "ecdsa-sha2-nistp521", name: "nistp521", jwk: "P-521", openssl: "secp521r1", size: 66, bits: 521 },
];
const SUPPORTED: readonly string[] = ["ssh-ed25519", "ssh-rsa", ...EC_CURVES.map((c) => c.algorithm)];
const SUPPORTED_LIST = "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 bits or more)";

const RFC4716_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----";
const RFC4716_END = "---- END SSH2 PUBLIC KEY ----";
const PRIVATE_KEY_RE = /^(?:-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----|PuTTY-User-Key-File-\d+:)/m;
// Only fields that look like an SSH key type; anything else in front of one is an authorized_keys option.
const KEY_TYPE_RE = /^(?:ssh|ecdsa|sk|rsa|x509v3)-[A-Za-z0-9@._+-]+$/;
const FORMATS_HINT =
  'expected an OpenSSH public key line ("ssh-ed25519 AAAA... comment"), an RFC 4716 "---- BEGIN SSH2 PUBLIC KEY ----" block, or a PEM "-----BEGIN PUBLIC KEY-----" / "-----BEGIN RSA PUBLIC KEY-----" block';

const malformed = (why: string): PublicKeyError => new PublicKeyError("MALFORMED", `Malformed public key: ${why}.`);
const unrecognized = (why: string): PublicKeyError => new PublicKeyError("UNRECOGNIZED_FORMAT", `Unrecognized public key format: ${why}.`);
const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

/** Reads RFC 4251 `string`s, refusing any length that runs past the end of the buffer. */
class WireReader {
  private readonly buf: Buffer;
  private offset = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  string(what: string): Buffer {
    if (this.buf.length - this.offset < 4) throw malformed(`the key data ends before ${what}`);
    const length = this.buf.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (length > this.buf.length - start) throw malformed(`${what} runs past the end of the key data`);
    this.offset = start + length;
    return this.buf.subarray(start, this.offset);
  }
  /** An mpint as an unsigned big-endian magnitude without leading zeros. */
  positiveMpint(what: string): Buffer {
    const raw = this.string(what);
    if (raw.length > 0 && (raw[0] ?? 0) & 0x80) throw malformed(`${what} is negative`);
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }
  end(): void {
    const extra = this.buf.length - this.offset;
    if (extra !== 0) throw malformed(`${extra} unexpected trailing byte(s) after the key`);
  }
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function sshMpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const magnitude = unsigned.subarray(start);
  // A set high bit would read as negative, so such values get a 0x00 prefix.
  return sshString((magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude);
}

const fromBase64Url = (value: string | undefined): Buffer => Buffer.from(value ?? "", "base64url");

function decodeBase64(text: string, what: string): Buffer {
  // Buffer.from silently skips junk, so insist on canonical, padded base64.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw malformed(`${what} is not valid base64 (is it truncated?)`);
  }
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) throw malformed(`${what} is not valid base64`);
  return bytes;
}

function assertSupportedType(type: string): asserts type is PublicKeyAlgorithm {
  if (SUPPORTED.includes(type)) return;
  if (type.endsWith("-cert-v01@openssh.com")) {
    throw new PublicKeyError("CERTIFICATE", `${quote(type)} is an OpenSSH certificate, not a plain public key; paste the key itself (e.g. id_ed25519.pub, not id_ed25519-cert.pub).`);
  }
  if (type.startsWith("sk-")) {
    throw new PublicKeyError("SECURITY_KEY", `${quote(type)} is a FIDO/U2F security-key (sk-) key; security keys are not supported. Use ${SUPPORTED_LIST}.`);
  }
  if (type === "rsa-sha2-256" || type === "rsa-sha2-512") {
    throw new PublicKeyError("UNSUPPORTED_ALGORITHM", `${quote(type)} is an RSA signature algorithm, not a key type; RSA public keys have type "ssh-rsa".`);
  }
  throw new PublicKeyError("UNSUPPORTED_ALGORITHM", `Unsupported key algorithm ${quote(type)}; use ${SUPPORTED_LIST}.`);
}

/** Builds the SSH wire blob for a node key; throws UNSUPPORTED_ALGORITHM for key types SSH cannot carry here. */
function blobFromKey(key: KeyObject): Buffer {
  const type = key.asymmetricKeyType;
  const curve = type === "ec" ? EC_CURVES.find((c) => c.openssl === key.asymmetricKeyDetails?.namedCurve) : undefined;
  if (type !== "ed25519" && type !== "rsa" && curve === undefined) {
    const detail = type === "ec" ? `EC curve ${quote(key.asymmetricKeyDetails?.namedCurve ?? "with explicit parameters")}` : `key type ${quote(type ?? "unknown")}`;
    throw new PublicKeyError("UNSUPPORTED_ALGORITHM", `Unsupported ${detail}; use ${SUPPORTED_LIST}.`);
  }
  const jwk = key.export({ format: "jwk" });
  if (curve !== undefined) {
    const point = Buffer.concat([Buffer.of(0x04), fromBase64Url(jwk.x), fromBase64Url(jwk.y)]);
    return Buffer.concat([sshString(curve.algorithm), sshString(curve.name), sshString(point)]);
  }
  if (type === "ed25519") return Buffer.concat([sshString("ssh-ed25519"), sshString(fromBase64Url(jwk.x))]);
  return Buffer.concat([sshString("ssh-rsa"), sshMpint(fromBase64Url(jwk.e)), sshMpint(fromBase64Url(jwk.n))]);
}

/**
 * DER of an ed25519 or ecdsa SubjectPublicKeyInfo up to the key bytes. OpenSSL's PEM export of these keys costs
 * more than the rest of a parse together, which an SSH verification pays for every key it proves.
 */
const SPKI_PREFIX: Partial<Record<PublicKeyAlgorithm, Buffer>> = {
  "ssh-ed25519": Buffer.from("302a300506032b6570032100", "hex"),
  "ecdsa-sha2-nistp256": Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex"),
  "ecdsa-sha2-nistp384": Buffer.from("3076301006072a8648ce3d020106052b81040022036200", "hex"),
  "ecdsa-sha2-nistp521": Buffer.from("30819b301006072a8648ce3d020106052b8104002303818600", "hex"),
};

/** PEM as OpenSSL writes it: 64 base64 characters a line. */
function spkiPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** Parses an SSH wire-format public key blob (RFC 4253 §6.6), e.g. from a publickey auth request. */
export function parsePublicKeyBlob(blob: Buffer): ParsedPublicKey {
  return parseVerifiablePublicKeyBlob(blob).parsed;
}

/** The same, with the node key object it was checked with, to verify signatures without parsing the key again. */
export function parseVerifiablePublicKeyBlob(blob: Buffer): { parsed: ParsedPublicKey; keyObject: KeyObject } {
  if (!(blob instanceof Uint8Array)) throw malformed("the key data must be a Buffer");
  const data = Buffer.from(blob); // a private copy: callers may reuse their buffer
  const reader = new WireReader(data);
  const type = reader.string("the key type").toString("latin1");
  assertSupportedType(type);

  let jwk: JsonWebKey;
  /** The key bytes that end its SubjectPublicKeyInfo, for the types whose encoding is a fixed prefix and them. */
  let spkiTail: Buffer | null = null;
  if (type === "ssh-ed25519") {
    const raw = reader.string("the Ed25519 key");
    spkiTail = raw;
    if (raw.length !== 32) throw malformed(`an Ed25519 key must be 32 bytes, not ${raw.length}`);
    jwk = { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") };
  } else if (type === "ssh-rsa") {
    const e = reader.positiveMpint("the RSA exponent");
    const n = reader.positiveMpint("the RSA modulus");
    if (n.length > MAX_RSA_BITS / 8) throw malformed(`RSA keys larger than ${MAX_RSA_BITS} bits are not accepted`);
    if (e.length === 0 || ((e.at(-1) ?? 0) & 1) === 0 || (e.length === 1 && e[0] === 1)) {
      throw malformed("the RSA public exponent must be odd and greater than 1");
    }
    jwk = { kty: "RSA", e: e.toString("base64url"), n: n.toString("base64url") };
  } else {
    const curve = EC_CURVES.find((c) => c.algorithm === type);
    if (curve === undefined) throw new PublicKeyError("UNSUPPORTED_ALGORITHM", `Unsupported key algorithm ${quote(type)}.`);
    const name = reader.string("the curve name").toString("latin1");
    if (name !== curve.name) throw malformed(`curve ${quote(name)} does not match key type ${type}`);
    const point = reader.string("the EC point");
    spkiTail = point;
    // OpenSSH only ever sends uncompressed points: 0x04 || x || y.
    if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw malformed(`the ${curve.name} point is not an uncompressed ${1 + 2 * curve.size}-byte point`);
    const x = point.subarray(1, 1 + curve.size).toString("base64url");
    jwk = { kty: "EC", crv: curve.jwk, x, y: point.subarray(1 + curve.size).toString("base64url") };
  }
  reader.end();

  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: "jwk" }); // OpenSSL checks e.g. that EC points lie on the curve
  } catch {
    throw malformed(`the ${type} key material is not a valid public key`);
  }
  // Re-encoding must reproduce the input exactly, otherwise one key could have several fingerprints.
  if (!blobFromKey(key).equals(data)) throw malformed("the key data is not canonically encoded");
  const bits = type === "ssh-ed25519" ? 256 : type === "ssh-rsa" ? key.asymmetricKeyDetails?.modulusLength ?? 0 : EC_CURVES.find((c) => c.algorithm === type)?.bits ?? 0;
  if (type === "ssh-rsa" && bits < MIN_RSA_BITS) {
    throw new PublicKeyError("RSA_TOO_SHORT", `This RSA key is only ${bits} bits; at least ${MIN_RSA_BITS} bits are required. Generate a new key, e.g. ssh-keygen -t ed25519.`);
  }
  const parsed: ParsedPublicKey = {
    algorithm: type,
    bits,
    blob: data,
    ssh: `${type} ${data.toString("base64")}`,
    sha256: `SHA256:${createHash("sha256").update(data).digest("base64").replace(/=+$/, "")}`,
    md5: `MD5:${createHash("md5").update(data).digest("hex").replace(/(..)(?!$)/g, "$1:")}`,
    pem: spkiTail === null ? key.export({ type: "spki", format: "pem" }).toString() : spkiPem(Buffer.concat([SPKI_PREFIX[type]!, spkiTail])),
  };
  return { parsed, keyObject: key };
}

/** Parses a pasted public key: an OpenSSH/authorized_keys line, an RFC 4716 block, or an SPKI / PKCS#1 PEM block. */
export function parsePublicKey(input: string): ParsedPublicKey {
  if (typeof input !== "string" || input.trim() === "") throw new PublicKeyError("EMPTY", "No public key was provided.");
  if (input.length > MAX_INPUT_CHARS) throw malformed(`the input is longer than ${MAX_INPUT_CHARS} characters`);
  const text = input.replace(/\r\n?/g, "\n").trim();
  if (PRIVATE_KEY_RE.test(text)) {
    throw new PublicKeyError("PRIVATE_KEY", "This is a private key; paste the public key instead (e.g. the contents of id_ed25519.pub). Never share your private key.");
  }
  if (text.startsWith("---- BEGIN ")) return parseRfc4716(text);
  if (text.startsWith("-----BEGIN ")) return parsePem(text);
  return parseOpenSshLine(text);
}

function parseOpenSshLine(text: string): ParsedPublicKey {
  if (text.includes("\n")) throw unrecognized(`paste a single key on one line; ${FORMATS_HINT}`);
  const fields = text.split(/\s+/);
  const [type = "", base64] = fields;
  if (!KEY_TYPE_RE.test(type)) {
    if (fields.some((field) => KEY_TYPE_RE.test(field))) {
      throw unrecognized('authorized_keys options (such as restrict or command="...") are not accepted; paste only "<type> <base64> [comment]"');
    }
    throw unrecognized(FORMATS_HINT);
  }
  if (base64 === undefined) throw malformed(`the base64 key data after ${quote(type)} is missing`);
  const blob = decodeBase64(base64, "the base64 key data");
  // Compare the declared type with the blob's before anything else so a mislabelled key is reported as such.
  const inner = new WireReader(blob).string("the key type").toString("latin1");
  if (inner !== type) {
    const hint = type.startsWith("rsa-sha2-") ? ' (rsa-sha2-* are signature algorithms; the key type is "ssh-rsa")' : "";
    throw malformed(`the line says ${quote(type)} but the key data is ${quote(inner)}${hint}`);
  }
  return parsePublicKeyBlob(blob);
}

function parseRfc4716(text: string): ParsedPublicKey {
  const lines = text.split("\n").map((line) => line.trim());
  if (lines[0] !== RFC4716_BEGIN) throw unrecognized(FORMATS_HINT);
  if (lines.at(-1) !== RFC4716_END || lines.length < 3) throw malformed(`the SSH2 public key block must end with "${RFC4716_END}"`);
  let i = 1;
  // Headers are "Tag: value" lines (base64 never contains ':'), continued by a trailing backslash.
  while (i < lines.length - 1 && lines[i]?.includes(":")) {
    while (i < lines.length - 1 && lines[i]?.endsWith("\\")) i++;
    i++;
  }
  return parsePublicKeyBlob(decodeBase64(lines.slice(i, -1).join(""), "the SSH2 public key body"));
}

function parsePem(text: string): ParsedPublicKey {
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY") {
    throw unrecognized(`PEM block ${quote(label ?? text.split("\n")[0] ?? "")} is not a public key; ${FORMATS_HINT}`);
  }
  const match = /^-----BEGIN ([A-Z ]+)-----\n([A-Za-z0-9+/=\s]+)\n-----END ([A-Z ]+)-----$/.exec(text);
  if (match === null || match[3] !== label) throw malformed(`the PEM block must be base64 between "-----BEGIN ${label}-----" and "-----END ${label}-----"`);
  const der = decodeBase64((match[2] ?? "").replace(/\s+/g, ""), "the PEM body");
  const type = label === "PUBLIC KEY" ? "spki" : "pkcs1";
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: "der", type });
  } catch {
    throw malformed(`the PEM block does not contain a valid ${type === "spki" ? "SubjectPublicKeyInfo" : "PKCS#1 RSA"} public key`);
  }
  // OpenSSL ignores trailing bytes after the DER structure; a re-export must match exactly.
  if (!key.export({ type, format: "der" }).equals(der)) throw malformed("the PEM block contains extra or non-canonical data");
  return parsePublicKeyBlob(blobFromKey(key));
}
