import type { LibraHandler } from './ports.js';

/** Answers every Libra worker request with FAIL until the load-balancer app exists. */
export class NotSupportedLibraHandler implements LibraHandler {
  handle(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    return Promise.resolve({
      ...request,
      hpcs_response: 'FAIL',
      hpcs_error: 'load balancer actions are not supported yet by this agent',
    });
  }
}
