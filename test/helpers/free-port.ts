/** A TCP port that was free a moment ago on 127.0.0.1 (never one of the ports the dev servers use). */
import net from 'node:net';

const RESERVED = new Set([3232, 3001, 6379]);

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (!RESERVED.has(port)) return port;
  }
}
