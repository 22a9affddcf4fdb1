import { Column, Entity, PrimaryColumn } from "typeorm";

/** One SSH connection to a session, recorded once the user name is known. */
@Entity({ name: "connections" })
export class Connection {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 36 })
  sessionId: string;

  @Column({ type: "varchar", length: 45, nullable: true })
  ipAddress: string | null;

  @Column({ type: "varchar", length: 255, nullable: true })
  clientVersion: string | null;

  @Column({ type: "boolean", default: false })
  satisfied: boolean;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;
}
