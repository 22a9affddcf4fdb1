import { Column, Entity, PrimaryColumn } from "typeorm";
import type { SessionKind, SessionStatus } from "../../domain/session-rules.js";

/** Verify and collect sessions share one table: the SSH flow and most rules are the same. */
@Entity({ name: "sessions" })
export class Session {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  projectId: string;

  @Column({ type: "varchar", length: 16 })
  kind: SessionKind;

  @Column({ type: "varchar", length: 64 })
  connectionIdentifier: string;

  @Column({ type: "varchar", length: 16 })
  status: SessionStatus;

  @Column({ type: "varchar", length: 255, nullable: true })
  externalId: string | null;

  @Column({ type: "boolean", default: false })
  matchAllKeys: boolean;

  @Column({ type: "int", default: 1 })
  maxAttempts: number;

  @Column({ type: "int", default: 0 })
  failedAttempts: number;

  /** Connections that satisfied the session's rules; `complete` uses it to choose verified or failed. */
  @Column({ type: "int", default: 0 })
  satisfiedConnections: number;

  @Column({ type: "boolean", default: false })
  multiConnection: boolean;

  @Column({ type: "boolean", default: false })
  multiKey: boolean;

  @Column({ type: "boolean", default: false })
  mustConfirm: boolean;

  @Column({ type: "text", nullable: true })
  sshBanner: string | null;

  @Column({ type: "text", nullable: true })
  sshMessage: string | null;

  @Column({ type: "datetime", precision: 3, nullable: true })
  expiredAt: Date | null;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;

  @Column({ type: "datetime", precision: 3 })
  updatedAt: Date;
}
