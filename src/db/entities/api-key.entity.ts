import { Column, Entity, PrimaryColumn } from "typeorm";

@Entity({ name: "api_keys" })
export class ApiKey {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  projectId: string;

  @Column({ type: "varchar", length: 200 })
  name: string;

  /** sha256 of the key, hex; the key itself is shown once and never stored. */
  @Column({ type: "varchar", length: 64 })
  keyHash: string;

  @Column({ type: "boolean", default: false })
  bootstrap: boolean;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;

  @Column({ type: "datetime", precision: 3, nullable: true })
  expiredAt: Date | null;

  @Column({ type: "datetime", precision: 3, nullable: true })
  revokedAt: Date | null;
}
