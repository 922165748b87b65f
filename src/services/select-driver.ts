/**
 * `services.driver`: auto picks systemd when it manages this host (the
 * sd_booted(3) test: /run/systemd/system exists) and packages go into `/`;
 * otherwise the built-in supervisor. systemd cannot run services from
 * another install root, so asking for it with one is a configuration error.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Supervisor } from './supervisor.js';
import { SystemdDriver } from './systemd-driver.js';
import type { ServiceManager } from './types.js';

export type ServiceDriverSetting = 'auto' | 'systemd' | 'supervisor';

export interface SelectServiceManagerOptions {
  driver: ServiceDriverSetting;
  /** packages.root */
  root: string;
  /** The supervisor's pid files go to `<stateDir>/services`. */
  stateDir: string;
  logDir?: string;
  logger: Logger;
  /** Default: /run/systemd/system exists. */
  systemdBooted?: () => boolean;
}

export const systemdBooted = (): boolean => existsSync('/run/systemd/system');

export function selectServiceManager(opts: SelectServiceManagerOptions): ServiceManager {
  const atRoot = resolve(opts.root) === '/';
  const booted = opts.systemdBooted ?? systemdBooted;
  const useSystemd = opts.driver === 'systemd' || (opts.driver === 'auto' && atRoot && booted());
  if (useSystemd && !atRoot) {
    throw new ConfigError(`services.driver=systemd cannot run services installed under packages.root=${opts.root}; use services.driver=supervisor (or auto)`);
  }
  if (useSystemd) {
    if (opts.driver === 'systemd' && !booted()) {
      opts.logger.warn({ event: 'services.systemd_not_booted' }, 'services.driver=systemd but systemd does not manage this host (/run/systemd/system missing)');
    }
    return new SystemdDriver({ logger: opts.logger });
  }
  return new Supervisor({ root: resolve(opts.root), stateDir: resolve(opts.stateDir), logDir: opts.logDir, logger: opts.logger });
}
