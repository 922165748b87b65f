/**
 * The one way bbonectl waits: for messages on its queue until the handler
 * says it has what it wanted, the time is up, the run is aborted (Ctrl-C in
 * --watch), or the broker connection is lost. Every command decides what a
 * reply is by correlation_id or host_id inside its handler, never by order.
 */
import type { Incoming, MasterClient } from './master-client.js';

export type ListenEnd = 'done' | 'timeout' | 'aborted';

export interface ListenOptions {
  /** Milliseconds; Infinity waits until done or aborted. */
  timeoutMs: number;
  onMessage: (m: Incoming) => boolean | void;
  /** A mandatory publish came back unrouted; return true to stop. */
  onReturn?: (correlationId: string | undefined) => boolean | void;
  signal?: AbortSignal;
}

export function listen(client: MasterClient, opts: ListenOptions): Promise<ListenEnd> {
  return new Promise((resolve, reject) => {
    const cleanups: Array<() => void> = [];
    const finish = (end: ListenEnd | Error): void => {
      for (const c of cleanups.splice(0)) c();
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
    if (opts.signal?.aborted) return finish('aborted');
    if (Number.isFinite(opts.timeoutMs)) {
      const timer = setTimeout(() => finish('timeout'), opts.timeoutMs);
      // The broker socket keeps the process alive while we wait; a wait abandoned after an error must not.
      timer.unref();
      cleanups.push(() => clearTimeout(timer));
    }
    if (opts.signal) {
      const onAbort = (): void => finish('aborted');
      opts.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => opts.signal?.removeEventListener('abort', onAbort));
    }
    cleanups.push(
      client.onMessage((m) => {
        if (opts.onMessage(m) === true) finish('done');
      }),
      client.onClosed((reason) => finish(new Error(`lost the broker: ${reason}`))),
    );
    const onReturn = opts.onReturn;
    if (onReturn) cleanups.push(client.onReturn((id) => onReturn(id) === true && finish('done')));
  });
}

/** The `data` of a status message from any host, or undefined for anything else. */
export function statusData(m: Incoming): Record<string, unknown> | undefined {
  const data = m.body.data;
  if (m.body.opcode !== 'status' || data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  return typeof (data as { host_id?: unknown }).host_id === 'string' ? (data as Record<string, unknown>) : undefined;
}
