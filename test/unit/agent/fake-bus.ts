import { EventEmitter } from 'node:events';
import type { Bus, BusEvents, MessageHandler, PublishOptions } from '../../../src/bus/bus.js';

/** In-memory Bus for handler tests: records what was published. The AMQP driver is tested against RabbitMQ. */
export class FakeBus extends EventEmitter implements Bus {
  connected = true;
  handler: MessageHandler | undefined;
  published: Array<{ routingKey: string; body: Record<string, unknown>; options: PublishOptions }> = [];
  failPublish = false;

  start(handler: MessageHandler): void {
    this.handler = handler;
  }
  waitForConnected(): Promise<void> {
    return Promise.resolve();
  }
  isConnected(): boolean {
    return this.connected;
  }
  publish(routingKey: string, body: unknown, options: PublishOptions = {}): Promise<void> {
    if (this.failPublish) return Promise.reject(new Error('publish failed'));
    this.published.push({ routingKey, body: body as Record<string, unknown>, options });
    return Promise.resolve();
  }
  bindTopic(): Promise<void> {
    return Promise.resolve();
  }
  unbindTopic(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  override on<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this {
    return super.on(event, listener);
  }
  override off<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this {
    return super.off(event, listener);
  }
}
