import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions } from "typeorm";

const id = (name = "id"): TableColumnOptions => ({ name, type: "varchar", length: "36", isPrimary: name === "id" });
const reference = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: "varchar",
  length: "36",
  isNullable: nullable,
});
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: "datetime",
  precision: 3,
  isNullable: nullable,
});
const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: "text", isNullable: nullable });
const string = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: "varchar",
  length: String(length),
  isNullable: nullable,
});
const flag = (name: string): TableColumnOptions => ({ name, type: "boolean", default: false });
const integer = (name: string, fallback?: number): TableColumnOptions => ({
  name,
  type: "int",
  ...(fallback === undefined ? {} : { default: fallback }),
});
const cascade = (column: string, table: string) => ({
  columnNames: [column],
  referencedTableName: table,
  referencedColumnNames: ["id"],
  onDelete: "CASCADE",
});

const publicKeyColumns = (): TableColumnOptions[] => [
  string("public_key_algorithm", 40),
  text("public_key_ssh"),
  string("public_key_sha256", 64),
  string("public_key_md5", 64),
  text("public_key_pem"),
];

/** Written with TypeORM's Table API only, so the same migration runs on MySQL/MariaDB and SQLite. */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = "InitialSchema1764300000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({ name: "projects", columns: [id(), string("name", 200), time("created_at")] }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "api_keys",
        columns: [
          id(),
          reference("project_id"),
          string("name", 200),
          string("key_hash", 64),
          flag("bootstrap"),
          time("created_at"),
          time("expired_at", true),
          time("revoked_at", true),
        ],
        foreignKeys: [cascade("project_id", "projects")],
        indices: [{ name: "uq_api_keys_key_hash", columnNames: ["key_hash"], isUnique: true }],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "sessions",
        columns: [
          id(),
          reference("project_id"),
          string("kind", 16),
          string("connection_identifier", 64),
          string("status", 16),
          string("external_id", 255, true),
          flag("match_all_keys"),
          integer("max_attempts", 1),
          integer("failed_attempts", 0),
          integer("satisfied_connections", 0),
          flag("multi_connection"),
          flag("multi_key"),
          flag("must_confirm"),
          text("ssh_banner", true),
          text("ssh_message", true),
          time("expired_at", true),
          time("created_at"),
          time("updated_at"),
        ],
        foreignKeys: [cascade("project_id", "projects")],
        indices: [
          { name: "uq_sessions_connection_identifier", columnNames: ["connection_identifier"], isUnique: true },
          { name: "ix_sessions_project_kind_created", columnNames: ["project_id", "kind", "created_at", "id"] },
          { name: "ix_sessions_project_external_id", columnNames: ["project_id", "external_id"] },
          { name: "ix_sessions_status_expired_at", columnNames: ["status", "expired_at"] },
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "session_keys",
        columns: [
          id(),
          reference("session_id"),
          integer("position"),
          string("name", 255, true),
          string("external_id", 255, true),
          ...publicKeyColumns(),
          time("verified_at", true),
          time("created_at"),
        ],
        foreignKeys: [cascade("session_id", "sessions")],
        indices: [{ name: "ix_session_keys_session", columnNames: ["session_id", "position"] }],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "connections",
        columns: [
          id(),
          reference("session_id"),
          string("ip_address", 45, true),
          string("client_version", 255, true),
          flag("satisfied"),
          time("created_at"),
        ],
        foreignKeys: [cascade("session_id", "sessions")],
        indices: [{ name: "ix_connections_session", columnNames: ["session_id", "created_at"] }],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "connection_keys",
        columns: [
          id(),
          reference("connection_id"),
          reference("session_id"),
          reference("session_key_id", true),
          ...publicKeyColumns(),
          time("verified_at"),
          time("created_at"),
        ],
        foreignKeys: [
          cascade("connection_id", "connections"),
          cascade("session_id", "sessions"),
          cascade("session_key_id", "session_keys"),
        ],
        indices: [
          { name: "ix_connection_keys_connection", columnNames: ["connection_id"] },
          { name: "ix_connection_keys_session", columnNames: ["session_id"] },
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "webhooks",
        columns: [
          id(),
          reference("session_id"),
          reference("project_id"),
          text("url"),
          string("method", 8),
          text("headers"),
          text("events"),
          integer("retries"),
          integer("initial_backoff"),
          { name: "backoff_multiplier", type: "double" },
          string("secret", 128),
          time("created_at"),
          time("updated_at"),
        ],
        foreignKeys: [cascade("session_id", "sessions")],
        indices: [{ name: "ix_webhooks_session", columnNames: ["session_id"] }],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "webhook_invocations",
        columns: [
          id(),
          reference("webhook_id"),
          reference("session_id"),
          string("event", 32),
          text("payload"),
          string("status", 16),
          integer("attempt_count", 0),
          time("trigger_time"),
          time("next_attempt_at", true),
          time("lease_until", true),
          string("lease_owner", 64, true),
          time("created_at"),
        ],
        foreignKeys: [cascade("webhook_id", "webhooks"), cascade("session_id", "sessions")],
        indices: [
          { name: "ix_invocations_due", columnNames: ["status", "next_attempt_at"] },
          { name: "ix_invocations_webhook", columnNames: ["webhook_id", "created_at"] },
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "webhook_attempts",
        columns: [
          id(),
          reference("invocation_id"),
          integer("attempt"),
          time("request_time"),
          { name: "response_status", type: "int", isNullable: true },
          text("response_body", true),
          text("error", true),
        ],
        foreignKeys: [cascade("invocation_id", "webhook_invocations")],
        indices: [{ name: "ix_attempts_invocation", columnNames: ["invocation_id", "attempt"] }],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: "ssh_host_keys",
        columns: [id(), string("algorithm", 40), text("private_key"), time("created_at")],
        indices: [{ name: "uq_ssh_host_keys_algorithm", columnNames: ["algorithm"], isUnique: true }],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      "ssh_host_keys",
      "webhook_attempts",
      "webhook_invocations",
      "webhooks",
      "connection_keys",
      "connections",
      "session_keys",
      "sessions",
      "api_keys",
      "projects",
    ]) {
      await queryRunner.dropTable(table, true);
    }
  }
}
