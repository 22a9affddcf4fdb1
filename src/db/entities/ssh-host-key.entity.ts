import { Column, Entity, PrimaryColumn } from "typeorm";

/** SSH host keys live in the database so every instance shows the same host key. */
@Entity({ name: "ssh_host_keys" })
export class SshHostKey {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ type: "varchar", length: 40 })
  algorithm: string;

  @Column({ type: "text" })
  privateKey: string;

  @Column({ type: "datetime", precision: 3 })
  createdAt: Date;
}
