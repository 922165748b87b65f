/**
 * What a command may touch besides the broker: its streams, and an abort
 * signal (Ctrl-C) so a long wait ends cleanly with the connection closed.
 */
import type { MasterClient } from './master-client.js';

export interface CtlIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  signal?: AbortSignal;
}

/** A command whose input is read and validated, ready to run once connected. */
export type Prepared = (client: MasterClient) => Promise<number>;

export function seconds(s: number): string {
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
