import { Column, Entity, PrimaryColumn } from "typeorm";

/** A key proven on a connection: a configured key matched (verify) or a key collected (collect). */
@Entity({ name: "connection_keys" })
export class ConnectionKey {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  connectionId: string;

  @Column({ type: "varchar", length: 36 })
  sessionId: string;

  @Column({ type: "varchar", length: 36, nullable: true })
  sessionKeyId: string | null;

  @Column({ type: "varchar", length: 40 })
  publicKeyAlgorithm: string;

  @Column({ type: "text" })
  publicKeySsh: string;

  @Column({ type: "varchar", length: 64 })
  publicKeySha256: string;

  @Column({ type: "varchar", length: 64 })
  publicKeyMd5: string;

  @Column({ type: "text" })
  publicKeyPem: string;

  @Column({ type: "datetime", precision: 3 })
  verifiedAt: Date;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;
}
