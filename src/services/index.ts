export type { ServiceDriverKind, ServiceManager } from './types.js';
export { selectServiceManager, systemdBooted, type SelectServiceManagerOptions, type ServiceDriverSetting } from './select-driver.js';
export { Supervisor, type SupervisorOptions, type SupervisorTimer } from './supervisor.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './restart-policy.js';
export { SystemdDriver, unitName, type CommandResult, type RunCommand, type SystemdDriverOptions } from './systemd-driver.js';
export { findUnitFile, loadUnit, parseUnitFile, type ExecCommand, type RestartPolicy, type UnitSpec } from './unit-file.js';
export { expandArgv } from './unit-words.js';
