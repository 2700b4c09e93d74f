/**
 * Scheduled retraining (issue #6 item 5: "scheduled retraining with node-cron (cron expression in
 * config)"), in gateway.timezone. noOverlap: a retrain still running when the next one is due is
 * not started twice (the stage also joins a running retrain).
 */
import { type ScheduledTask, schedule } from "node-cron";

export class RetrainSchedule {
  #task: ScheduledTask | undefined;

  constructor(
    private readonly expression: string,
    private readonly timeZone: string,
    private readonly run: () => void,
  ) {}

  start(): void {
    this.#task = schedule(this.expression, () => this.run(), {
      timezone: this.timeZone,
      noOverlap: true,
      name: "analytics-retrain",
    });
    // A timer of its own must not keep a stopping daemon alive.
    this.#task.unref();
  }

  stop(): void {
    void this.#task?.destroy();
    this.#task = undefined;
  }
}
