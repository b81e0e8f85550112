/**
 * Pure formatting helpers for the panel: durations, metric values, times and run states.
 *
 * Kept free of DOM and JupyterLab imports so they are unit-tested directly under jest.
 */

/** Run states that will not change any more. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'FINISHED',
  'FAILED',
  'KILLED'
]);

/** Whether a run in this state may still change (RUNNING, SCHEDULED, ...). */
export function isActiveStatus(status: string): boolean {
  return !TERMINAL_STATUSES.has(status);
}

const PLACEHOLDER = '—';

/**
 * A duration in seconds as a short human text: "850 ms", "4.2 s", "42 s", "3m 07s",
 * "2h 05m", "3d 04h".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return PLACEHOLDER;
  }
  const s = Math.max(0, seconds);
  if (s < 1) {
    return `${Math.round(s * 1000)} ms`;
  }
  if (s < 10) {
    return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  }
  if (s < 60) {
    return `${Math.floor(s)} s`;
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  const total = Math.floor(s);
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  }
  if (total < 86400) {
    return `${Math.floor(total / 3600)}h ${pad(Math.floor((total % 3600) / 60))}m`;
  }
  return `${Math.floor(total / 86400)}d ${pad(Math.floor((total % 86400) / 3600))}h`;
}

function trimZeros(text: string): string {
  // "1.2300" -> "1.23", "2.000e-5" -> "2e-5"; leaves integers alone.
  return text.replace(/(\.\d*?)0+(?=$|e)/, '$1').replace(/\.(?=$|e)/, '');
}

/**
 * A metric value with four significant digits: integers as they are, very large or very small
 * numbers in exponent notation.
 */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return PLACEHOLDER;
  }
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e9) {
    return String(value);
  }
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) {
    return trimZeros(value.toExponential(3));
  }
  return trimZeros(value.toPrecision(4));
}

/** A param as shown in tables: long numbers shortened to four significant digits. */
export function formatParam(text: string | undefined): string {
  if (text === undefined) {
    return PLACEHOLDER;
  }
  const num = Number(text);
  return text.length > 8 && text.trim() !== '' && Number.isFinite(num)
    ? formatValue(num)
    : text;
}

/**
 * When something happened, relative to ``now`` for the last day ("just now", "5 min ago",
 * "3 h ago"), else as a local date and time.
 */
export function formatTime(
  ms: number | null | undefined,
  now: number = Date.now()
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return PLACEHOLDER;
  }
  const ago = (now - ms) / 1000;
  if (ago < 45) {
    return 'just now';
  }
  if (ago < 3600) {
    return `${Math.max(1, Math.round(ago / 60))} min ago`;
  }
  if (ago < 86400) {
    return `${Math.round(ago / 3600)} h ago`;
  }
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** The part of a run needed to compute how long it has taken so far. */
export interface IRunTiming {
  status: string;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
}

/**
 * A run's duration in seconds: the server's figure once it ended, else the time since it started
 * (so a RUNNING run's duration ticks without another request).
 */
export function runDuration(
  run: IRunTiming,
  now: number = Date.now()
): number | null {
  if (run.duration !== null && run.duration !== undefined) {
    return run.duration;
  }
  if (run.start_time === null || run.start_time === undefined) {
    return null;
  }
  const end = run.end_time ?? (isActiveStatus(run.status) ? now : null);
  return end === null ? null : Math.max(0, (end - run.start_time) / 1000);
}

/** A byte count as "512 B", "1.5 KB", "12 MB". */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined || !Number.isFinite(size)) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${value} ${units[0]}`
    : `${trimZeros(value.toFixed(1))} ${units[unit]}`;
}
