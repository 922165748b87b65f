// Small HTTP backends for the load-balancer bench, in their own process so
// they do not share an event loop with the code being timed. Prints the
// ports as one JSON line, then serves until killed.
import { createServer } from 'node:http';

const count = Number(process.argv[2] ?? 3);
const ports = [];
for (let i = 0; i < count; i++) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '8' });
    res.end(`node-${String(i).padStart(2, '0')}\n`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  ports.push(server.address().port);
}
process.stdout.write(`${JSON.stringify(ports)}\n`);
