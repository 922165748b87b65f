/**
 * What `bbonectl hosts` shows, computed from status messages without I/O so
 * it is tested with fixed clocks: one HostView per host, rendered as an
 * aligned text table or as JSON.
 */

export interface HostView {
  host_id: string;
  hostname: string;
  os: string;
  arch: string;
  /** ok | converging | errors as the host said, or `lost` when it went silent. */
  status: string;
  apps: Record<string, { version: string; running: boolean; error?: string }>;
  desired_hash: string | null;
  heartbeat_period: number | null;
  agent_version: string | null;
  /** ISO time the last status arrived here (our clock, not the host's). */
  last_seen: string;
  lost: boolean;
}

/** A host silent for this many of its own heartbeat periods is shown as lost (issue 7). */
export const LOST_AFTER_PERIODS = 3;

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The `data` of a status message, as received at `seenAt` (ms since epoch), judged at `now`. */
export function hostView(data: Record<string, unknown>, seenAt: number, now: number): HostView {
  const info = obj(data.info);
  const period = typeof data.heartbeat_period === 'number' && data.heartbeat_period > 0 ? data.heartbeat_period : null;
  // Without a period (an older agent) a host is never called lost: there is nothing to measure silence against.
  const lost = period !== null && now - seenAt > LOST_AFTER_PERIODS * period * 1000;
  const apps: HostView['apps'] = {};
  for (const [name, raw] of Object.entries(obj(data.apps))) {
    const app = obj(raw);
    const error = obj(app.error);
    apps[name] = { version: str(app.version, '?'), running: app.running === true };
    if (typeof error.message === 'string') apps[name].error = str(error.code) ? `${str(error.code)}: ${error.message}` : error.message;
  }
  const osInfo = str(info.os_info);
  return {
    host_id: str(data.host_id),
    hostname: str(info.hostname),
    os: osInfo !== '' ? osInfo : str(info.os_family),
    arch: str(info.arch),
    status: lost ? 'lost' : str(data.status, '?'),
    apps,
    desired_hash: typeof data.desired_hash === 'string' ? data.desired_hash : null,
    heartbeat_period: period,
    agent_version: typeof obj(data.host_agent).version === 'string' ? (obj(data.host_agent).version as string) : null,
    last_seen: new Date(seenAt).toISOString(),
    lost,
  };
}

/** `pf9-foo=1.2(running) pf9-lb=1.0(stopped)`, sorted by name so redraws do not shuffle. */
export function formatApps(apps: HostView['apps']): string {
  const names = Object.keys(apps).sort();
  if (names.length === 0) return '-';
  return names
    .map((name) => {
      const app = apps[name];
      if (app === undefined) return name;
      return `${name}=${app.version}(${app.running ? 'running' : 'stopped'}${app.error !== undefined ? ', error' : ''})`;
    })
    .join(' ');
}

/** Coarse and short: a table column, not a log line. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Left-aligned columns two spaces apart; the last column is not padded so lines carry no trailing blanks. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, i) => (i === headers.length - 1 ? (cells[i] ?? '') : (cells[i] ?? '').padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export const HOST_COLUMNS = ['HOST_ID', 'HOSTNAME', 'OS', 'STATUS', 'APPS', 'LAST SEEN'] as const;

export function renderHosts(views: readonly HostView[], now: number): string {
  const sorted = [...views].sort((a, b) => a.host_id.localeCompare(b.host_id));
  const rows = sorted.map((v) => [
    v.host_id,
    v.hostname || '-',
    v.os || '-',
    v.status,
    formatApps(v.apps),
    formatAgo(now - Date.parse(v.last_seen)),
  ]);
  return renderTable(HOST_COLUMNS, rows);
}
