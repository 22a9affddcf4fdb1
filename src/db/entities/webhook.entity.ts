import { Column, Entity, PrimaryColumn } from "typeorm";

export type WebhookMethod = "post" | "put" | "patch";

@Entity({ name: "webhooks" })
export class Webhook {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  sessionId: string;

  @Column({ type: "varchar", length: 36 })
  projectId: string;

  @Column({ type: "text" })
  url: string;

  @Column({ type: "varchar", length: 8 })
  method: WebhookMethod;

  @Column({ type: "simple-json" })
  headers: Record<string, string[]>;

  @Column({ type: "simple-json" })
  events: string[];

  @Column({ type: "int" })
  retries: number;

  @Column({ type: "int" })
  initialBackoff: number;

  @Column({ type: "double" })
  backoffMultiplier: number;

  @Column({ type: "varchar", length: 128 })
  secret: string;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;

  @Column({ type: "datetime", precision: 3 })
  updatedAt: Date;
}
