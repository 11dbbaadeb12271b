import cron, { type ScheduledTask } from "node-cron";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CycleTrigger } from "../state/types.ts";
import { isHot, type WatchPlan } from "./watch-settings.ts";

/**
 * When one project's cycles start: its cron task, plus a hot-interval timer while its newest tag is young. It only
 * says "now" (`onTrigger`); whether a cycle then runs (overlap, ownership, the global cap) is the daemon's call.
 */
export interface ProjectScheduleOptions {
  project: string;
  plan: WatchPlan;
  log: Logger;
  now: () => Date;
  onTrigger: (trigger: Extract<CycleTrigger, "schedule" | "hot">) => void;
  /** False while the daemon is not running or is stopping: hot polling is then never switched on. */
  accepting: () => boolean;
}

export class ProjectSchedule {
  readonly plan: WatchPlan;
  readonly #o: ProjectScheduleOptions;
  #task: ScheduledTask | null = null;
  #hot: NodeJS.Timeout | null = null;
  #hotNextAt: number | null = null;

  constructor(options: ProjectScheduleOptions) {
    this.#o = options;
    this.plan = options.plan;
  }

  /** Whether hot polling is on. */
  get hot(): boolean {
    return this.#hot !== null;
  }

  /** Whether the cron task runs (between start() and stop()). */
  get started(): boolean {
    return this.#task !== null;
  }

  async start(): Promise<void> {
    const task = cron.createTask(this.plan.schedule, () => this.#o.onTrigger("schedule"), {
      name: `watch:${this.#o.project}`,
      suppressMissedWarning: true,
      logger: cronLogger(this.#o.log),
    });
    await task.start();
    this.#task = task;
  }

  /** Switches hot polling on or off for the tag published at `publishedAt` (first seen at `firstSeen`). */
  updateHot(publishedAt: string | null, firstSeen: string): void {
    if (!this.#o.accepting() || !this.#task) return;
    const hot = isHot(this.plan, publishedAt, firstSeen, this.#o.now());
    if (hot && !this.#hot) {
      this.#hotNextAt = Date.now() + this.plan.hot_interval_ms;
      this.#hot = setInterval(() => {
        this.#hotNextAt = Date.now() + this.plan.hot_interval_ms;
        this.#o.onTrigger("hot");
      }, this.plan.hot_interval_ms);
      this.#o.log.info({ project: this.#o.project, every_ms: this.plan.hot_interval_ms }, "hot polling on");
    } else if (!hot && this.#hot) {
      this.#clearHot();
      this.#o.log.info({ project: this.#o.project }, "hot polling off");
    }
  }

  /** The next cron or hot tick (ISO), null when not started. */
  nextCheck(): string | null {
    if (!this.#task) return null;
    const cronNext = this.#task.getNextRun()?.getTime() ?? null;
    const candidates = [cronNext, this.#hotNextAt].filter((x): x is number => x !== null);
    return candidates.length ? new Date(Math.min(...candidates)).toISOString() : null;
  }

  async stop(): Promise<void> {
    if (this.#task) await this.#task.destroy();
    this.#task = null;
    this.#clearHot();
  }

  #clearHot(): void {
    if (this.#hot) clearInterval(this.#hot);
    this.#hot = null;
    this.#hotNextAt = null;
  }
}

function cronLogger(log: Logger) {
  const l = log.child({ component: "cron" });
  return {
    info: (m: string) => l.debug(m),
    warn: (m: string) => l.warn(m),
    error: (m: string | Error, err?: Error) => l.error({ err: errorMessage(err ?? m) }, "cron error"),
    debug: (m: string | Error) => l.debug(errorMessage(m)),
  };
}
