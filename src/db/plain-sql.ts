import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from "typeorm";

/*
 * Written SQL for hot paths (one SSH verification runs about a dozen statements). TypeORM's query builder and
 * find options cost about ten times the statement itself on SQLite (building, aliasing, hydrating), and even its
 * raw `query()` costs twice the statement; so on SQLite these run prepared statements on TypeORM's one
 * connection (inside its open transaction, when there is one), and on MySQL through the manager's query runner.
 * Values are converted exactly as TypeORM does, through the driver and the entity's column metadata. Plain `?`
 * placeholders and snake_case names read the same on both databases. Statements still reach TypeORM's logger,
 * so statement counts stay true.
 */

export type Row = Record<string, unknown>;

export interface SqliteStatement {
  readonly reader: boolean;
  all(...parameters: unknown[]): unknown[];
  run(...parameters: unknown[]): { changes: number };
}

/** better-sqlite3's connection, as TypeORM's driver holds it. */
export interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
}

/** Prepared statements per connection; IN lists of different lengths are different statements, hence the bound. */
const preparedStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
const MAX_PREPARED_STATEMENTS = 200;

/** The rows of a SELECT, keyed by the column names the statement gives. */
export async function selectRows(manager: EntityManager, sql: string, parameters: unknown[]): Promise<Row[]> {
  const sqlite = sqliteStatement(manager, sql, parameters);
  const rows: unknown = sqlite ? sqlite.statement.all(...sqlite.parameters) : await manager.query(sql, parameters);
  return Array.isArray(rows) ? (rows as Row[]) : [];
}

/** Runs an UPDATE, INSERT or DELETE in the manager's transaction; answers how many rows it changed. */
export async function execute(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number> {
  if (!manager.queryRunner?.isTransactionActive) throw new Error("execute() runs inside a transaction");
  const sqlite = sqliteStatement(manager, sql, parameters);
  if (sqlite) return sqlite.statement.run(...sqlite.parameters).changes;
  const result = await manager.queryRunner.query(sql, parameters, true);
  return result.affected ?? 0;
}

/** On SQLite: the prepared statement on TypeORM's connection and the parameters as better-sqlite3 binds them. */
function sqliteStatement(manager: EntityManager, sql: string, parameters: unknown[]) {
  const { driver, logger } = manager.connection;
  if (driver.options.type !== "better-sqlite3") return null;
  const statement = preparedStatement(sqliteConnectionOf(manager.connection), sql);
  const bound = parameters.map((value) => (typeof value === "boolean" ? Number(value) : value));
  logger.logQuery(sql, bound);
  return { statement, parameters: bound };
}

/** The better-sqlite3 connection TypeORM's driver holds for a SQLite data source. */
export function sqliteConnectionOf(dataSource: DataSource): SqliteConnection {
  return (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

/** `sql` prepared on this SQLite connection, once. */
export function preparedStatement(connection: SqliteConnection, sql: string): SqliteStatement {
  let statements = preparedStatements.get(connection);
  if (statements === undefined) preparedStatements.set(connection, (statements = new Map()));
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = connection.prepare(sql);
    if (statements.size >= MAX_PREPARED_STATEMENTS) statements.delete(statements.keys().next().value!);
    statements.set(sql, statement);
  }
  return statement;
}

/** An entity from a row whose column names are the entity's own (`created_at`), optionally after a prefix. */
export function hydrate<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, row: Row, prefix = ""): T {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  const instance = metadata.create() as T;
  for (const column of metadata.columns) {
    const value = row[prefix + column.databaseName];
    if (value !== undefined) column.setEntityValue(instance, driver.prepareHydratedValue(value, column));
  }
  return instance;
}

/** A value as TypeORM writes it to the column of `property` (a date is text on SQLite, a Date on MySQL). */
export function columnValue<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, property: keyof T & string, value: unknown) {
  const metadata = manager.connection.getMetadata(entity);
  return manager.connection.driver.preparePersistentValue(value, columnOf(metadata, property));
}

const insertStatements = new WeakMap<EntityMetadata, string>();

/** Inserts one row with every column of the entity given (no reloading of defaults, unlike `manager.insert`). */
export async function insertRow<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, values: T): Promise<void> {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  let sql = insertStatements.get(metadata);
  if (sql === undefined) {
    const names = metadata.columns.map((column) => column.databaseName);
    sql = `INSERT INTO ${metadata.tableName} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`;
    insertStatements.set(metadata, sql);
  }
  const parameters = metadata.columns.map((column) => {
    const value = column.getEntityValue(values);
    if (value === undefined) throw new Error(`insertRow(${metadata.tableName}): no value for ${column.propertyName}`);
    return driver.preparePersistentValue(value, column);
  });
  await execute(manager, sql, parameters);
}

/** `ORDER BY` terms for entity properties. */
export function orderBy<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, order: Partial<Record<keyof T & string, "ASC" | "DESC">>) {
  const metadata = manager.connection.getMetadata(entity);
  return Object.entries(order)
    .map(([property, direction]) => `${columnOf(metadata, property).databaseName} ${direction === "DESC" ? "DESC" : "ASC"}`)
    .join(", ");
}

function columnOf(metadata: EntityMetadata, property: string) {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${metadata.tableName} has no column for ${property}`);
  return column;
}
