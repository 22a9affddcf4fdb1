import {
  type EntityManager,
  type EntityTarget,
  type FindOptionsSelect,
  type FindOptionsWhere,
  In,
  IsNull,
  LessThan,
  Not,
  type ObjectLiteral,
} from "typeorm";
import type { Database } from "../db/database.js";
import { Connection, Session, WebhookInvocation } from "../db/entities/index.js";
import { now } from "../domain/ids.js";
import type { Logger } from "../logger.js";
import { type PeriodicTask, startPeriodicTask } from "./periodic-task.js";

/** Days to keep each kind of record; 0 keeps it forever. */
export interface RetentionSettings {
  /** Sessions created longer ago are deleted with their keys, connections, webhooks and invocations. */
  retentionDays: number;
  /** Connections recorded longer ago keep everything but their IP address. */
  connectionIpRetentionDays: number;
  /** Delivered or given-up webhook invocations created longer ago are deleted with their attempts. */
  invocationRetentionDays: number;
}

/** What one purge removed. */
export interface RetentionReport {
  sessions: number;
  connectionIps: number;
  invocations: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Short transactions: a purge of a large backlog must not hold locks the API is waiting for.
const BATCH_SIZE = 500;

/** Purges old data per RETENTION_DAYS, CONNECTION_IP_RETENTION_DAYS and INVOCATION_RETENTION_DAYS. */
export class RetentionService {
  constructor(
    private readonly database: Database,
    private readonly settings: RetentionSettings,
  ) {}

  get enabled(): boolean {
    const { retentionDays, connectionIpRetentionDays, invocationRetentionDays } = this.settings;
    return retentionDays > 0 || connectionIpRetentionDays > 0 || invocationRetentionDays > 0;
  }

  async purge(at: Date = now()): Promise<RetentionReport> {
    const { retentionDays, connectionIpRetentionDays, invocationRetentionDays } = this.settings;
    return {
      sessions: retentionDays > 0 ? await this.deleteSessions(cutoff(at, retentionDays)) : 0,
      connectionIps: connectionIpRetentionDays > 0 ? await this.forgetConnectionIps(cutoff(at, connectionIpRetentionDays)) : 0,
      invocations: invocationRetentionDays > 0 ? await this.deleteInvocations(cutoff(at, invocationRetentionDays)) : 0,
    };
  }

  /** Keys, connections, webhooks, invocations and attempts go with their session (ON DELETE CASCADE). */
  private deleteSessions(before: Date): Promise<number> {
    return this.inBatches(Session, { createdAt: LessThan(before) }, (manager, ids) => manager.delete(Session, { id: In(ids) }));
  }

  private forgetConnectionIps(before: Date): Promise<number> {
    return this.inBatches(Connection, { createdAt: LessThan(before), ipAddress: Not(IsNull()) }, (manager, ids) =>
      manager.update(Connection, { id: In(ids) }, { ipAddress: null }),
    );
  }

  /** Pending invocations are still to be delivered, so only finished ones go. */
  private deleteInvocations(before: Date): Promise<number> {
    return this.inBatches(
      WebhookInvocation,
      { createdAt: LessThan(before), status: In(["succeeded", "failed"]) },
      (manager, ids) => manager.delete(WebhookInvocation, { id: In(ids) }),
    );
  }

  /** Selects matching ids a batch at a time and applies `change` to each batch in its own transaction. */
  private async inBatches<T extends ObjectLiteral & { id: string }>(
    entity: EntityTarget<T>,
    where: FindOptionsWhere<T>,
    change: (manager: EntityManager, ids: string[]) => Promise<unknown>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.database.transaction(async ({ manager }) => {
        const rows = await manager.find(entity, { select: { id: true } as FindOptionsSelect<T>, where, take: BATCH_SIZE });
        if (rows.length > 0) await change(manager, rows.map((row) => row.id));
        total += rows.length;
        return rows.length < BATCH_SIZE;
      });
      if (done) return total;
    }
  }
}

function cutoff(at: Date, days: number): Date {
  return new Date(at.getTime() - days * DAY_MS);
}

/** Purges on start and then every `intervalMs`; every instance may run it, since a purge is idempotent. */
export function startRetentionPurge(retention: RetentionService, intervalMs: number, logger: Logger): PeriodicTask {
  return startPeriodicTask(
    "retention",
    { intervalMs, firstRunAfterMs: 0 },
    async () => {
      const report = await retention.purge();
      if (report.sessions + report.connectionIps + report.invocations > 0) logger.info({ purged: report }, "retention purge");
    },
    logger,
  );
}
