import { Column, Entity, PrimaryColumn } from "typeorm";

export type InvocationStatus = "pending" | "succeeded" | "failed";

/** The outbox: one event for one webhook, written in the transaction of the change that caused it. */
@Entity({ name: "webhook_invocations" })
export class WebhookInvocation {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  webhookId: string;

  @Column({ type: "varchar", length: 36 })
  sessionId: string;

  @Column({ type: "varchar", length: 32 })
  event: string;

  /** The event payload as JSON text, exactly as it will be sent. */
  @Column({ type: "text" })
  payload: string;

  @Column({ type: "varchar", length: 16 })
  status: InvocationStatus;

  @Column({ type: "int", default: 0 })
  attemptCount: number;

  @Column({ type: "datetime", precision: 3 })
  triggerTime: Date;

  @Column({ type: "datetime", precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  /** A claimed row belongs to its worker until the lease runs out; no row lock is held during delivery. */
  @Column({ type: "datetime", precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: "varchar", length: 64, nullable: true })
  leaseOwner: string | null;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;
}
