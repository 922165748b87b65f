/**
 * sozu's command socket frames each message as one JSON object followed by a
 * 0 byte (sozu 0.x, command-lib README). A stream read may hold half a
 * message, several messages, or bytes that are not JSON at all (a peer bug,
 * or a sozu speaking protobuf, as 1.x does): the decoder keeps the tail of
 * an unfinished message, skips a bad frame up to the next 0 byte and reports
 * it, and drops a frame that grows past `maxFrameBytes` instead of buffering
 * without bound.
 */

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function encodeFrame(message: unknown): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(message), 'utf8'), Buffer.from([0])]);
}

export interface FrameProblem {
  kind: 'not_json' | 'not_object' | 'too_large';
  /** Size of the skipped frame in bytes. Its text is never kept: it may hold a private key. */
  bytes: number;
}

export interface DecodedFrames {
  messages: Array<Record<string, unknown>>;
  problems: FrameProblem[];
}

export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** True while the rest of an oversized frame is skipped up to its 0 byte. */
  private discarding = false;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Feeds one read; returns every complete frame in it, in order. */
  push(chunk: Buffer): DecodedFrames {
    const out: DecodedFrames = { messages: [], problems: [] };
    let start = 0;
    for (;;) {
      const zero = chunk.indexOf(0, start);
      if (zero === -1) break;
      this.finishFrame(chunk.subarray(start, zero), out);
      start = zero + 1;
    }
    this.keep(chunk.subarray(start), out);
    return out;
  }

  /** Bytes held for a frame whose 0 byte has not arrived yet. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private keep(part: Buffer, out: DecodedFrames): void {
    if (part.length === 0) return;
    if (this.discarding) {
      this.pendingBytes += part.length;
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxFrameBytes) {
      out.problems.push({ kind: 'too_large', bytes: this.pendingBytes });
      this.pending = [];
      this.discarding = true;
    }
  }

  private finishFrame(last: Buffer, out: DecodedFrames): void {
    if (this.discarding) {
      this.discarding = false;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const frame = this.pending.length === 0 ? last : Buffer.concat([...this.pending, last]);
    this.pending = [];
    this.pendingBytes = 0;
    if (frame.length > this.maxFrameBytes) {
      out.problems.push({ kind: 'too_large', bytes: frame.length });
      return;
    }
    // Empty frames (two 0 bytes in a row, or a "\n\0" separator's leftovers) carry nothing.
    const text = frame.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      out.problems.push({ kind: 'not_json', bytes: frame.length });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.problems.push({ kind: 'not_object', bytes: frame.length });
      return;
    }
    out.messages.push(value as Record<string, unknown>);
  }
}
