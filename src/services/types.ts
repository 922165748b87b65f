/**
 * Starting, stopping and asking about the services of apps. Drivers:
 * `systemd-driver.ts` (systemctl) and `supervisor.ts` (built in, for hosts
 * and test machines without systemd).
 */
export type ServiceDriverKind = 'systemd' | 'supervisor';

export interface ServiceManager {
  readonly kind: ServiceDriverKind;
  /** Called once at agent start (the supervisor re-adopts children recorded in its pid files). */
  init(): Promise<void>;
  /** Starts the service if it is not running; resolves once it was started (or already ran). */
  start(service: string): Promise<void>;
  /** Stops it if it runs; resolves once it is stopped. */
  stop(service: string): Promise<void>;
  /** Stop then start. */
  restart(service: string): Promise<void>;
  /** One batched query: for each name, whether it runs now. */
  activeStates(services: readonly string[]): Promise<Map<string, boolean>>;
  /** Agent shutdown: stop watching. Services keep running (fail static). */
  close(): Promise<void>;
}
