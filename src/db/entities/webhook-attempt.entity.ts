import { Column, Entity, PrimaryColumn } from "typeorm";

@Entity({ name: "webhook_attempts" })
export class WebhookAttempt {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  invocationId: string;

  @Column({ type: "int" })
  attempt: number;

  @Column({ type: "datetime", precision: 3 })
  requestTime: Date;

  @Column({ type: "int", nullable: true })
  responseStatus: number | null;

  @Column({ type: "text", nullable: true })
  responseBody: string | null;

  @Column({ type: "text", nullable: true })
  error: string | null;
}
