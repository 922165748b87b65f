import { desiredHash } from '../../../src/protocol/canonical-json.js';
import type { DesiredApps } from '../../../src/protocol/bbone/types.js';
import type { AppsController, AppsSnapshot } from '../../../src/reconcile/apps-controller.js';
import type { DesiredStateStore } from '../../../src/state/desired-state-store.js';

/**
 * An apps controller that only keeps the desired state (durably, through the
 * real store), for testing the agent's message handling without packages.
 * The reconciler itself is tested against real rpm/dpkg elsewhere.
 */
export class StoreOnlyApps implements AppsController {
  private desired: DesiredApps | undefined;
  ticks = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly store: DesiredStateStore) {}

  async init(): Promise<void> {
    this.desired = await this.store.load();
  }
  async setDesired(apps: DesiredApps): Promise<void> {
    await this.store.save(apps);
    this.desired = apps;
  }
  tick(): Promise<void> {
    this.ticks++;
    return Promise.resolve();
  }
  settle(): void {
    for (const l of this.listeners) l();
  }
  onSettled(listener: () => void): void {
    this.listeners.push(listener);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  snapshot(): AppsSnapshot {
    const pending = this.desired ? Object.keys(this.desired).length : 0;
    return { status: pending > 0 ? 'converging' : 'ok', apps: {}, desiredHash: this.desired ? desiredHash(this.desired) : null };
  }
}
