import { Field, ID, InterfaceType, ObjectType } from "type-graphql";

/** The forms of one public key, as REST shows them in `public_key_*`. */
@InterfaceType({ description: "A public key in the forms ssh-keygen and OpenSSL print." })
export abstract class PublicKey {
  @Field({ description: "e.g. ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa" })
  publicKeyAlgorithm: string;

  @Field({ description: 'MD5 fingerprint, "MD5:aa:bb:…"' })
  publicKeyMd5: string;

  @Field({ description: "SubjectPublicKeyInfo PEM" })
  publicKeyPem: string;

  @Field({ description: 'SHA-256 fingerprint, "SHA256:<base64, no padding>"' })
  publicKeySha256: string;

  @Field({ description: "OpenSSH one-line form, without a comment" })
  publicKeySsh: string;
}

@ObjectType({ implements: PublicKey, simpleResolvers: true, description: "A public key configured on a verify session." })
export class VerifySessionKey extends PublicKey {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true })
  externalId: string | null;

  @Field(() => Date, { nullable: true, description: "When a connection proved possession of this key." })
  verifiedAt: Date | null;

  @Field(() => Date)
  createdAt: Date;
}

@ObjectType({ implements: PublicKey, simpleResolvers: true, description: "A public key a collect session collected." })
export class CollectSessionKey extends PublicKey {
  @Field(() => ID)
  id: string;

  @Field(() => Date)
  createdAt: Date;
}

@ObjectType({ implements: PublicKey, simpleResolvers: true, description: "A key proven on one SSH connection." })
export class ConnectionKey extends PublicKey {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { nullable: true, description: "The configured key this proof matched; null for a collected key." })
  sessionKeyId: string | null;

  @Field(() => String, { nullable: true })
  name: string | null;

  @Field(() => String, { nullable: true })
  externalId: string | null;

  @Field(() => Date)
  verifiedAt: Date;

  @Field(() => Date)
  createdAt: Date;
}

@ObjectType({ simpleResolvers: true, description: "One SSH connection to a session." })
export class SshConnection {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  ipAddress: string | null;

  @Field(() => String, { nullable: true, description: "The client's SSH version string." })
  clientVersion: string | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => [ConnectionKey], { description: "The keys proven on this connection." })
  keys: ConnectionKey[];
}
