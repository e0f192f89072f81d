/**
 * A tiny round-robin HTTP load balancer for the scale-out scenario of
 * `npm run bench` (issue 15): every request goes to the next backend in turn,
 * with no session affinity (a 2025-era session request that lands on an
 * instance not holding the session is forwarded by that instance, as in
 * production behind a plain balancer). The Host header passes through
 * unchanged, as behind a real balancer: the instances share one public
 * `BASE_URI`. Keep-alive agents on both sides.
 *
 * Usage: node bench/.build/bench/load-balancer.js <port> <backend-url> [<backend-url> ...]
 */
import { Agent, createServer, request } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const backends = process.argv.slice(3).map(u => new URL(u));
if (backends.length === 0) throw new Error('usage: load-balancer <port> <backend-url>...');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
let next = 0;

const server = createServer((req, res) => {
  const target = backends[next++ % backends.length]!;
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
    answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    }
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;

process.on('SIGTERM', () => process.exit(0));
server.listen(port, '127.0.0.1', () => console.log(`load balancer on ${port} -> ${backends.map(b => b.host).join(', ')}`));
