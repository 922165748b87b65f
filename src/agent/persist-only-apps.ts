/**
 * Until the reconciler lands, a set_config is saved durably and reported by
 * its hash, and nothing is installed. The status is `converging` while the
 * desired set names apps the agent has not applied, `ok` when it is empty.
 */
import { desiredHash } from '../protocol/canonical-json.js';
import type { DesiredApps } from '../protocol/bbone/types.js';
import type { DesiredStateStore } from '../state/desired-state-store.js';
import type { AppsController, AppsSnapshot } from './ports.js';

export class PersistOnlyAppsController implements AppsController {
  private desired: DesiredApps | undefined;
  private hash: string | null = null;

  constructor(private readonly store: DesiredStateStore) {}

  async init(): Promise<void> {
    this.desired = await this.store.load();
    this.hash = this.desired ? desiredHash(this.desired) : null;
  }

  async setDesired(apps: DesiredApps): Promise<void> {
    await this.store.save(apps);
    this.desired = apps;
    this.hash = desiredHash(apps);
  }

  snapshot(): AppsSnapshot {
    const pending = this.desired ? Object.keys(this.desired).length : 0;
    const corrupt = this.store.lastLoadError;
    return {
      status: pending > 0 ? 'converging' : 'ok',
      apps: {},
      desiredHash: this.hash,
      ...(corrupt ? { extra: { state_error: corrupt.toJSON() } } : {}),
    };
  }
}

