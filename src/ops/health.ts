/**
 * `/health` (liveness: the process answers) and `/ready` (readiness: storage
 * answers, and in external mode the authorization server is reachable), plus
 * `/metrics` for Prometheus.
 */
import { Router } from 'express';

import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export function createOpsRouter(options: { checks: ReadinessCheck[]; metrics: Metrics; timeoutMs?: number }): Router {
  const router = Router();
  const timeoutMs = options.timeoutMs ?? 2000;

  router.get('/health', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/ready', async (_req, res) => {
    const results = await Promise.all(
      options.checks.map(async c => {
        try {
          await Promise.race([
            c.check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref())
          ]);
          return [c.name, 'ok'] as const;
        } catch {
          return [c.name, 'unavailable'] as const;
        }
      })
    );
    const ready = results.every(([, s]) => s === 'ok');
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });

  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  return router;
}
