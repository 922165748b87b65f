export type { AgentConfig, FrozenConfig, LogLevel } from './types.js';
export { configSchema, SCHEMA_KEYS, isConfigKey, LOG_LEVELS, DEFAULT_AMQP_URL, type ConfigKey } from './schema.js';
export {
  loadConfig,
  resolveConfig,
  DEFAULT_CONFIG_FILE,
  CONFIG_FILE_ENV,
  type ConfigSources,
  type LoadedConfig,
  type ResolveInput,
} from './load-config.js';
export { maskUrl, maskValue, isSecretKey, maskedConfig, MASK } from './mask.js';
export { formatConfig } from './print-config.js';
export { parseAgentArgs, AGENT_USAGE, type AgentArgs } from './cli-args.js';
