export { ControlServer, type ControlServerOptions, type ControlServerStats } from './control-server.js';
export type { ControlHandlers, ControlStatus } from './handlers.js';
export { TaskRegistry, type TaskInfo, type TaskReporter } from './tasks.js';
export { LogTee, type LineSink } from './log-tee.js';
export { runCtl, CTL_USAGE, type CtlOptions } from './ctl-client.js';
export { createAgentControlHandlers, type AgentControlPorts } from './agent-handlers.js';
