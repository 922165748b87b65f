/**
 * How `ctl` shows a task: a bar redrawn in place on a terminal, and plain,
 * grep-able lines when output goes to a file or a pipe.
 */

const BAR_WIDTH = 30;

export function formatEta(eta: unknown): string {
  if (typeof eta !== 'number' || !Number.isFinite(eta)) return '?';
  if (eta < 60) return `${Math.round(eta)}s`;
  const minutes = Math.floor(eta / 60);
  return minutes < 60 ? `${minutes}m${Math.round(eta % 60)}s` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

function percentOf(params: Record<string, unknown>): number {
  const p = params.percent;
  return typeof p === 'number' && Number.isFinite(p) ? Math.min(100, Math.max(0, Math.floor(p))) : 0;
}

/** `task converge-x: running 45% eta 12s: installing pf9-foo` */
export function formatTaskLine(params: Record<string, unknown>): string {
  const state = typeof params.state === 'string' ? params.state : 'unknown';
  const eta = state === 'running' ? ` eta ${formatEta(params.eta)}` : '';
  const msg = typeof params.msg === 'string' && params.msg !== '' ? `: ${params.msg}` : '';
  return `task ${String(params.task_id)}: ${state} ${percentOf(params)}%${eta}${msg}`;
}

/** `[#############.................]  45% eta 12s installing pf9-foo` (message cut to keep one line). */
export function renderProgressBar(params: Record<string, unknown>, columns = 100): string {
  const percent = percentOf(params);
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% eta ${formatEta(params.eta)}`;
  const msg = typeof params.msg === 'string' ? params.msg : '';
  const room = Math.max(0, columns - bar.length - 2);
  return msg === '' || room === 0 ? bar : `${bar} ${msg.length > room ? `${msg.slice(0, room - 1)}…` : msg}`;
}
