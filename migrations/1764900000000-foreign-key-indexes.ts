import { type MigrationInterface, type QueryRunner, TableIndex } from "typeorm";

/**
 * An index that leads with each foreign key column the first schema left without one. SQLite looks up the child
 * rows of every deleted parent row through such an index, and without it reads the whole child table: deleting a
 * session scanned every webhook invocation, and each of its configured keys every proven key (46 ms a key with
 * 200,000 proven keys), with the event loop blocked meanwhile. MySQL made these indexes itself for its foreign
 * keys; an explicit one takes their place.
 */
const INDEXES: Array<{ table: string; index: TableIndex }> = [
  { table: "connection_keys", index: new TableIndex({ name: "ix_connection_keys_session_key", columnNames: ["session_key_id"] }) },
  { table: "webhook_invocations", index: new TableIndex({ name: "ix_invocations_session", columnNames: ["session_id"] }) },
  { table: "api_keys", index: new TableIndex({ name: "ix_api_keys_project", columnNames: ["project_id"] }) },
];

export class ForeignKeyIndexes1764900000000 implements MigrationInterface {
  name = "ForeignKeyIndexes1764900000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const { table, index } of INDEXES) await queryRunner.createIndex(table, index);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // MySQL refuses to drop the one index a foreign key uses; there the indexes stay, as MySQL had them before.
    if (queryRunner.connection.driver.options.type === "mysql") return;
    for (const { table, index } of INDEXES) await queryRunner.dropIndex(table, index.name!);
  }
}
