// The floor for a ping round trip: a bare amqplib consumer that answers each
// message on `master` with the same correlation id, doing nothing else.
// Same broker, same socket options (TCP_NODELAY) and same ack discipline as the agent.
import amqp from 'amqplib';

const [url, exchange, queue] = process.argv.slice(2);
const conn = await amqp.connect(url, { noDelay: true });
const consumer = await conn.createChannel();
const publisher = await conn.createConfirmChannel();
await consumer.assertExchange(exchange, 'topic', { durable: false });
await consumer.assertQueue(queue, { durable: false, exclusive: false, autoDelete: false });
await consumer.bindQueue(queue, exchange, queue);
await consumer.prefetch(16);
await consumer.consume(queue, (msg) => {
  if (!msg) return;
  const body = Buffer.from(JSON.stringify({ opcode: 'status', data: { host_id: queue, status: 'ok' } }));
  publisher.publish(exchange, 'master', body, { correlationId: msg.properties.correlationId }, () => consumer.ack(msg));
});
process.send?.('ready');
process.on('SIGTERM', () => void conn.close().finally(() => process.exit(0)));
