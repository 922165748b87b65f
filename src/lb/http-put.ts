/**
 * One HTTP PUT with a body, for ARCHIVE uploads; a seam so the worker is
 * tested without a network. node:http/https are imported on first use, not
 * at start: an agent that never archives does not pay for them (the project
 * avoids global fetch for the same reason: undici's memory cost).
 */
export interface HttpPutRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Bound on the whole exchange, connect to last response byte. */
  timeoutMs: number;
}

export interface HttpPutResponse {
  status: number;
  statusText: string;
  /** The start of the response body (for error messages), at most 4 KiB. */
  body: string;
}

export type HttpPut = (req: HttpPutRequest) => Promise<HttpPutResponse>;

const MAX_BODY = 4096;

export const nodeHttpPut: HttpPut = async (req) => {
  const url = new URL(req.url);
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<HttpPutResponse>((resolve, reject) => {
    const request = mod.request(
      url,
      { method: 'PUT', headers: { ...req.headers, 'Content-Length': String(req.body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
          });
        });
        res.on('error', fail);
      },
    );
    function fail(err: Error): void {
      clearTimeout(timer);
      request.destroy();
      reject(err);
    }
    const timer = setTimeout(() => fail(new Error(`no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    request.on('error', fail);
    request.end(req.body);
  });
};
