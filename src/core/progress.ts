/**
 * Progress reporting for long queries and transfers. Core reports; the CLI decides whether to
 * draw (only on a terminal, never in cron logs).
 */
export interface ProgressBar {
  /** Units done so far (bytes or rows). */
  update(done: number): void;
  done(): void;
}

export interface ProgressReporter {
  /** `total` undefined when unknown (a query's row count). */
  start(label: string, total: number | undefined, unit: 'bytes' | 'rows'): ProgressBar;
}

export const noProgress: ProgressReporter = {
  start: () => ({ update: () => undefined, done: () => undefined }),
};
