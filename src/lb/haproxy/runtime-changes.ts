/**
 * Server-level changes through the admin socket, no reload (plan.ts decides
 * when that is enough).
 *
 * - DISABLED is `state maint`, as the rendered `disabled` keyword is: no new
 *   request reaches the node, cookie-persisted clients included, while its
 *   current sessions finish (HAProxy cuts them only with
 *   `on-marked-down shutdown-sessions`, which is not set). `drain` would
 *   keep admitting clients whose SERVERID cookie names the node.
 * - Adding: HAProxy 2.6 registers a dynamic server in maintenance with its
 *   checks off, so it is `add server`, then `enable health` (when monitored)
 *   and `state ready` (unless DISABLED).
 * - Removing: `state drain` then `state maint` (nothing new goes there), wait
 *   until its sessions end (`scur` 0, bounded by the drain timeout), cut
 *   what is left (`shutdown sessions`), then `del server`, which HAProxy
 *   refuses for a server in use.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeStep } from './plan.js';
import { serverWords } from './render.js';
import type { RuntimeApi } from './runtime-api.js';

export interface RuntimeChangeOptions {
  drainTimeoutMs: number;
  pollMs?: number;
  /** Told when a removal outlived the drain timeout and its sessions are cut. */
  onDrainTimeout?: (lbId: string, nodeId: string, sessions: number) => void;
}

export async function applyRuntimeSteps(api: RuntimeApi, steps: readonly RuntimeStep[], opts: RuntimeChangeOptions): Promise<void> {
  const removals: Array<{ lbId: string; nodeId: string }> = [];
  for (const step of steps) {
    switch (step.kind) {
      case 'add': {
        const { lb, node } = step;
        // `disabled` is how the config says maint; a dynamic server starts in maint anyway.
        const words = serverWords(lb, node, { cookie: false }).filter((w) => w !== 'disabled');
        await api.addServer(lb.id, node.id, words);
        if (lb.monitor) await api.enableHealth(lb.id, node.id);
        if (node.condition === 'ENABLED') await api.setState(lb.id, node.id, 'ready');
        break;
      }
      case 'weight':
        await api.setWeight(step.lbId, step.nodeId, step.weight);
        break;
      case 'enable':
        await api.setState(step.lbId, step.nodeId, 'ready');
        break;
      case 'disable':
        await api.setState(step.lbId, step.nodeId, 'maint');
        break;
      case 'remove':
        await api.setState(step.lbId, step.nodeId, 'drain');
        await api.setState(step.lbId, step.nodeId, 'maint');
        removals.push(step);
        break;
    }
  }
  if (removals.length > 0) await removeServers(api, removals, opts);
}

/** Waits for all removed servers together (one drain timeout in all), then deletes them. */
async function removeServers(
  api: RuntimeApi,
  removals: ReadonlyArray<{ lbId: string; nodeId: string }>,
  opts: RuntimeChangeOptions,
): Promise<void> {
  const deadline = Date.now() + opts.drainTimeoutMs;
  let busy = await sessionsOf(api, removals);
  while (busy.size > 0 && Date.now() < deadline) {
    await sleep(Math.min(opts.pollMs ?? 25, Math.max(1, deadline - Date.now())));
    busy = await sessionsOf(api, removals);
  }
  for (const { lbId, nodeId } of removals) {
    const left = busy.get(`${lbId}/${nodeId}`);
    if (left !== undefined) {
      opts.onDrainTimeout?.(lbId, nodeId, left);
      await api.shutdownSessions(lbId, nodeId);
    }
    await api.delServer(lbId, nodeId);
  }
}

/** `<lb>/<node>` -> current sessions, for the removals that still have some. */
async function sessionsOf(api: RuntimeApi, removals: ReadonlyArray<{ lbId: string; nodeId: string }>): Promise<Map<string, number>> {
  const rows = await api.showStat();
  const busy = new Map<string, number>();
  for (const { lbId, nodeId } of removals) {
    const row = rows.find((r) => r.pxname === lbId && r.svname === nodeId);
    const scur = Number(row?.scur ?? 0);
    if (scur > 0) busy.set(`${lbId}/${nodeId}`, scur);
  }
  return busy;
}
