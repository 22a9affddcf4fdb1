import { Column, Entity, PrimaryColumn } from "typeorm";

/** A public key configured on a verify session. */
@Entity({ name: "session_keys" })
export class SessionKey {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  sessionId: string;

  @Column({ type: "int" })
  position: number;

  @Column({ type: "varchar", length: 255, nullable: true })
  name: string | null;

  @Column({ type: "varchar", length: 255, nullable: true })
  externalId: string | null;

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

  @Column({ type: "datetime", precision: 3, nullable: true })
  verifiedAt: Date | null;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;
}
