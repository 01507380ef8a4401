/** A free TCP port on 127.0.0.1, for servers started by tools and tests (CA servers, gateways). */
import { createServer } from 'node:net';

/** Asks the OS for a free port (bound and released at once: another process may take it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
