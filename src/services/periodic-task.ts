import type { Logger } from "../logger.js";

/** A background job of the gateway: started with it, and stopped (waiting for a run in progress) with it. */
export interface PeriodicTask {
  stop(): Promise<void>;
}

export interface PeriodicSchedule {
  intervalMs: number;
  /** Delay before the first run; 0 runs it at once. */
  firstRunAfterMs: number;
}

/**
 * Runs `work` after `firstRunAfterMs`, then every `intervalMs` after the previous run has finished, so
 * runs never overlap. A failed run is logged and the next one still comes.
 */
export function startPeriodicTask(name: string, schedule: PeriodicSchedule, work: () => Promise<void>, logger: Logger): PeriodicTask {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = () => {
    running = work()
      .catch((error: unknown) => logger.error({ err: error, task: name }, "background task failed"))
      .finally(() => {
        if (!stopped) timer = setTimeout(run, schedule.intervalMs).unref();
      });
  };
  if (schedule.firstRunAfterMs > 0) timer = setTimeout(run, schedule.firstRunAfterMs).unref();
  else run();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
