import { readFileSync } from "node:fs";
import ssh2 from "ssh2";
import { ConfigError } from "../config.js";
import type { Database } from "../db/database.js";
import { SshHostKey } from "../db/entities/index.js";
import { newId, now } from "../domain/ids.js";
import { parsePublicKeyBlob } from "../domain/public-keys.js";

const { utils } = ssh2;

export interface HostKey {
  algorithm: string;
  /** The private key text (OpenSSH or PEM), as ssh2 reads it. */
  privateKey: string;
  /** The public key in OpenSSH one-line form. */
  publicKeySsh: string;
  sha256: string;
}

const GENERATORS = {
  "ssh-ed25519": () => utils.generateKeyPairSync("ed25519").private,
  "ssh-rsa": () => utils.generateKeyPairSync("rsa", { bits: 3072 }).private,
} as const;

export type GeneratedHostKeyAlgorithm = keyof typeof GENERATORS;

/**
 * A new host key that ssh2 can read back. ssh2 1.17.0 writes an unreadable ed25519 key about once in 256
 * (mscdex/ssh2#1390); stored as it is, it would stop every later start, so such a key is made again.
 */
export function generateHostKey(algorithm: GeneratedHostKeyAlgorithm): string {
  for (let attempt = 1; attempt <= 32; attempt++) {
    const privateKey = GENERATORS[algorithm]();
    if (!(utils.parseKey(privateKey) instanceof Error)) return privateKey;
  }
  throw new Error(`could not generate a readable ${algorithm} host key`);
}

export function describeHostKey(privateKey: string, source: string): HostKey {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`${source}: not a usable SSH private key (${parsed.message})`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key.isPrivateKey()) throw new Error(`${source}: is not a private key`);
  const publicKey = parsePublicKeyBlob(key.getPublicSSH());
  return { algorithm: publicKey.algorithm, privateKey, publicKeySsh: publicKey.ssh, sha256: publicKey.sha256 };
}

/** A host key file named by SSH_HOST_KEY_FILES; a file that cannot be used is a configuration error. */
function readHostKeyFile(file: string): HostKey {
  try {
    return describeHostKey(readFileSync(file, "utf8"), file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? `${file}: no such file` : (error as Error).message;
    throw new ConfigError("SSH_HOST_KEY_FILES", reason);
  }
}

/** SSH host keys: from SSH_HOST_KEY_FILES, or from the database where the first instance created them. */
export class HostKeysService {
  constructor(private readonly database: Database) {}

  async load(files: string[]): Promise<HostKey[]> {
    if (files.length > 0) return files.map(readHostKeyFile);
    return this.database.withExclusiveLock("sshverify:host-keys", async () => {
      for (const algorithm of Object.keys(GENERATORS) as GeneratedHostKeyAlgorithm[]) {
        const exists = await this.database.read((manager) => manager.existsBy(SshHostKey, { algorithm }));
        if (exists) continue;
        const privateKey = generateHostKey(algorithm);
        await this.database.transaction(async ({ manager }) => {
          // A second process on the same SQLite file may have won the race; the unique index decides.
          await manager
            .createQueryBuilder()
            .insert()
            .into(SshHostKey)
            .values({ id: newId(), algorithm, privateKey, createdAt: now() })
            .orIgnore()
            .execute();
        });
      }
      const rows = await this.database.read((manager) => manager.find(SshHostKey, { order: { algorithm: "ASC" } }));
      return rows.map((row) => describeHostKey(row.privateKey, `host key ${row.algorithm}`));
    });
  }
}

export function knownHostsLine(host: string, port: number, key: HostKey): string {
  const target = port === 22 ? host : `[${host}]:${port}`;
  return `${target} ${key.publicKeySsh}`;
}
