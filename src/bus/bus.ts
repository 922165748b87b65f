/**
 * The agent's view of the message bus: the one interface the rest of the
 * agent depends on, so handlers are tested without a broker and the AMQP
 * driver is tested against a real one.
 */
export interface InboundMessage {
  body: Buffer;
  routingKey: string;
  exchange: string;
  correlationId: string | undefined;
  replyTo: string | undefined;
  messageId: string | undefined;
  redelivered: boolean;
}

/**
 * What the handler wants done with a delivery once it returns. A message is
 * never requeued by the agent: a message that failed once would fail again,
 * and a requeue loop is worse than a reported error.
 */
export type Disposition = 'ack' | 'reject';

export type MessageHandler = (msg: InboundMessage) => Promise<Disposition>;

export interface PublishOptions {
  correlationId?: string | undefined;
  /** Publish to the default exchange, straight to this queue (an RPC reply_to). */
  toQueue?: string | undefined;
}

export interface BusEvents {
  connected: () => void;
  disconnected: (reason: string) => void;
}

export interface Bus {
  /** Starts connecting in the background; never throws for an unreachable broker. */
  start(handler: MessageHandler): void;
  /** Resolves once connected and consuming (for callers that want to wait). */
  waitForConnected(timeoutMs?: number): Promise<void>;
  isConnected(): boolean;
  /** Publishes JSON to the exchange with `routingKey` and waits for the broker's confirm. */
  publish(routingKey: string, body: unknown, options?: PublishOptions): Promise<void>;
  /** Adds a routing key to the queue's bindings now (if connected) and on every reconnect. */
  bindTopic(key: string): Promise<void>;
  unbindTopic(key: string): Promise<void>;
  /** Stops consuming, lets in-flight handlers finish, closes the connection. */
  close(): Promise<void>;
  on<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this;
  off<E extends keyof BusEvents>(event: E, listener: BusEvents[E]): this;
}
