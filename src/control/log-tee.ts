/**
 * A pino destination that writes every log line to the real destination and
 * hands a copy to control-socket subscribers (`ctl log`). With no subscriber
 * it costs one Set size check per line.
 */

/** The part of pino's DestinationStream (or a SonicBoom) this needs. */
export interface LineSink {
  write(line: string): unknown;
  flush?(cb?: (err?: Error | null) => void): void;
  flushSync?(): void;
}

export class LogTee implements LineSink {
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly inner: LineSink) {}

  write(line: string): unknown {
    const result = this.inner.write(line);
    if (this.listeners.size > 0) {
      // pino writes whole lines ending in \n; subscribers get them without it.
      const text = line.endsWith('\n') ? line.slice(0, -1) : line;
      for (const listener of this.listeners) {
        try {
          listener(text);
        } catch {
          // A subscriber's failure must never break logging.
        }
      }
    }
    return result;
  }

  /** pino's logger.flush() calls this when present; forward it so a stop still flushes the real file. */
  flush(cb?: (err?: Error | null) => void): void {
    if (this.inner.flush) this.inner.flush(cb);
    else cb?.();
  }

  flushSync(): void {
    this.inner.flushSync?.();
  }

  subscribe(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
