/**
 * Runs jobs one at a time, in the order they were queued. The bus hands
 * the agent several deliveries at once (prefetch), and two UPDATEs applied
 * at the same time could leave the proxy running one and the state file
 * holding the other; queued, the later one simply wins.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    // The chain itself never rejects: one failed job must not stop the ones after it.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
