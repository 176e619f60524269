/**
 * A simulated business calendar for the demo book: tasks (one per demo loan) wait for the day
 * their next action falls on; the driver releases one day at a time, waits until every task is
 * either waiting for a later day or done, then runs that day's close of business. So the book is
 * built the way production builds it — each day's business, then its close — only faster.
 */
export class SimulatedCalendar {
  private day = "";
  private running = 0;
  private waiters: { date: string; resolve: () => void }[] = [];
  private idle: (() => void)[] = [];

  /** Runs a task on the calendar (it may call `at` any number of times). */
  run(task: () => Promise<void>): Promise<void> {
    this.running++;
    return task().finally(() => this.settle());
  }

  /** Resolves once the calendar has reached `date` (at once when it already has). */
  at(date: string): Promise<void> {
    if (date <= this.day) return Promise.resolve();
    this.running--;
    const wait = new Promise<void>((resolve) => this.waiters.push({ date, resolve }));
    this.checkIdle();
    return wait;
  }

  /** Moves to `date` and resolves once every task is waiting for a later date or done. */
  async advanceTo(date: string): Promise<void> {
    this.day = date;
    const due = this.waiters.filter((w) => w.date <= date);
    this.waiters = this.waiters.filter((w) => w.date > date);
    this.running += due.length;
    for (const w of due) w.resolve();
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      this.checkIdle();
    });
  }

  private settle(): void {
    this.running--;
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.running > 0) return;
    for (const r of this.idle.splice(0)) setImmediate(r);
  }
}
