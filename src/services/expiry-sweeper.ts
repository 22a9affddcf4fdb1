import type { Logger } from "../logger.js";
import { type PeriodicTask, startPeriodicTask } from "./periodic-task.js";
import type { SessionsService } from "./sessions.service.js";

const BATCH_SIZE = 100;

/**
 * Moves pending sessions past `expired_at` to `expired`, so the change is stored and announced (webhook
 * and subscription). Every instance sweeps; `expireDue`'s conditional update lets exactly one of them
 * win each session, so each expiry is announced once.
 */
export function startExpirySweeper(
  sessions: Pick<SessionsService, "expireDue">,
  intervalMs: number,
  logger: Logger,
): PeriodicTask {
  return startPeriodicTask(
    "expiry-sweeper",
    { intervalMs, firstRunAfterMs: intervalMs },
    async () => {
      let total = 0;
      // A full batch means more may be due: keep going until the backlog is gone.
      for (let expired = BATCH_SIZE; expired === BATCH_SIZE; ) {
        expired = await sessions.expireDue(BATCH_SIZE);
        total += expired;
      }
      if (total > 0) logger.info({ expired: total }, "expired sessions");
    },
    logger,
  );
}
