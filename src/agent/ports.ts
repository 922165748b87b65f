/**
 * What the agent hands messages to. The reconcile and load-balancer issues
 * provide the real implementations; the agent only knows these shapes.
 */
export type { AppsController, AppsSnapshot } from '../reconcile/apps-controller.js';

/** A Libra worker request in, the reply (request plus hpcs_response...) out. Never throws. */
export interface LibraHandler {
  handle(request: Record<string, unknown>, context?: { correlationId?: string | undefined }): Promise<Record<string, unknown>>;
}

export interface Timer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimer: Timer = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
