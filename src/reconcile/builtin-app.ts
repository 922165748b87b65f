/**
 * An app the agent carries inside itself (the load balancer, `pf9-lb`):
 * no package to download or install, so the reconciler drives it through
 * this interface instead of the package backend, hooks and service manager.
 * It still takes part in plans like any app (config, running, topic), so
 * set_config and status treat it the same way.
 */
export interface BuiltinApp {
  readonly name: string;
  /** Whether it runs now, and its config as applied. */
  observe(): Promise<{ running: boolean; config: Record<string, unknown> }>;
  setConfig(config: Record<string, unknown>): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
