/**
 * Progress bars on a terminal: one line on stderr, redrawn at most ten times a second, cleared
 * when done. Only used when stderr is a terminal; cron logs never see them.
 */
import type { ProgressBar, ProgressReporter } from '../core/progress.js';
import { terminalSafe } from '../terminal-text.js';
import { formatBytes } from './output.js';

const WIDTH = 24;

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return {
    start(rawLabel, total, unit) {
      // The label names a remote path, which a partner chose.
      const label = terminalSafe(rawLabel);
      const started = Date.now();
      let last = 0;
      let value = 0;
      const draw = () => {
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        const rate = value / secs;
        const amount = unit === 'bytes' ? formatBytes(value) : `${value.toLocaleString('en-US')} rows`;
        let line = `${label}  ${amount}`;
        if (total !== undefined && total > 0) {
          const frac = Math.min(value / total, 1);
          const filled = Math.round(frac * WIDTH);
          const eta = rate > 0 ? Math.ceil((total - value) / rate) : undefined;
          line = `${label}  [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${amount}/${unit === 'bytes' ? formatBytes(total) : total}`;
          if (eta !== undefined) line += `  ETA ${eta}s`;
        }
        line += unit === 'bytes' ? `  ${formatBytes(rate)}/s` : `  ${Math.round(rate).toLocaleString('en-US')} rows/s`;
        stream.write(`\r\x1b[K${line.slice(0, (stream.columns || 120) - 1)}`);
      };
      const bar: ProgressBar = {
        update(n) {
          value = n;
          const now = Date.now();
          // Small transfers finish before a bar is worth drawing.
          if (now - last >= 100 && now - started >= 300) {
            last = now;
            draw();
          }
        },
        done() {
          if (last > 0) stream.write('\r\x1b[K');
        },
      };
      return bar;
    },
  };
}
