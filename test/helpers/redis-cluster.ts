/**
 * A real Redis Cluster for tests (the cluster sibling of redis-server.ts):
 * six `redis-server --cluster-enabled yes` processes on free ports in a temp
 * directory, joined by `redis-cli --cluster create … --cluster-replicas 1
 * --cluster-yes` into 3 masters with one replica each. Persistence is off.
 *
 * `kill(port)` sends SIGKILL to one node (the failover tests);
 * `masterOf(key)` says which master holds a key's slot; `stop()` kills every
 * node and removes the directory. The binaries are `REDIS_SERVER_BIN` /
 * `REDIS_CLI_BIN` or `redis-server` / `redis-cli` on the PATH (Redis ≥ 7.0:
 * `--cluster-port` keeps the bus ports free too, and sharded pub/sub exists).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** For a replica: the id of its master. */
  masterId?: string;
  /** For a master: its slot ranges as `[first, last]`. */
  slots: Array<[number, number]>;
}

export interface TestRedisCluster {
  /** Seed URLs, as `REDIS_CLUSTER_NODES` takes them. */
  urls: string[];
  ports: number[];
  /** The cluster's view from a live node (`CLUSTER NODES`), failed nodes left out. */
  nodes(): Promise<ClusterNode[]>;
  /** The master that serves `key`'s slot now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** `redis-cli` on one node; resolves with its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** SIGKILL one node (no goodbye to the cluster: the others must notice it). */
  kill(port: number): Promise<void>;
  /** The password the helper's own `redis-cli` calls send from now on (after `CONFIG SET requirepass`). */
  usePassword(password: string | undefined): void;
  /** SIGSTOP one node: it stops answering anyone, replication included, until `resume`. */
  pause(port: number): void;
  /** SIGCONT a paused node. */
  resume(port: number): void;
  /** Resolves once every master has a replica whose replication link is up (or throws after `timeoutMs`). */
  waitForReplicas(timeoutMs?: number): Promise<void>;
  /** Resolves once every slot is served by a live master again (or throws after `timeoutMs`). */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TestRedisClusterOptions {
  /** `cluster-node-timeout` in ms: how long a silent node takes to be declared failed. Default 1000. */
  nodeTimeoutMs?: number;
  /** Extra `redis-server` arguments for every node (e.g. `['--requirepass', 'x', '--masterauth', 'x']`). */
  serverArgs?: string[];
  /** Password for the `redis-cli` calls (when `serverArgs` sets one). */
  password?: string;
}

const READY_TIMEOUT_MS = 30_000;

export async function startTestRedisCluster(options: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
  const serverBin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const cliBin = process.env.REDIS_CLI_BIN ?? 'redis-cli';
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const killAll = () => {
    for (const child of children.values()) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  let password = options.password;
  const auth = () => (password ? ['-a', password, '--no-auth-warning'] : []);
  const cli = async (port: number, ...args: string[]): Promise<string> => {
    const { stdout } = await run(cliBin, ['-h', '127.0.0.1', '-p', String(port), ...auth(), ...args], { timeout: 10_000 });
    return stdout;
  };

  // Twelve distinct free ports: six client ports, six cluster-bus ports.
  const taken = new Set<number>();
  const nextPort = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const ports: number[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < 6; i++) {
    ports.push(await nextPort());
    busPorts.push(await nextPort());
  }

  const stop = async () => {
    process.removeListener('exit', killAll);
    await Promise.all(
      [...children.values()].map(
        child =>
          new Promise<void>(resolve => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          })
      )
    );
    children.clear();
    rmSync(dir, { recursive: true, force: true });
  };

  /** Why the cluster cannot start (a node that cannot run or died), reported at once instead of after the timeout. */
  let failure: string | undefined;
  try {
    for (const [i, port] of ports.entries()) {
      const child = spawn(
        serverBin,
        [
          '--port', String(port),
          '--cluster-port', String(busPorts[i]),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
          '--dir', dir,
          '--save', '',
          '--appendonly', 'no',
          '--protected-mode', 'no',
          '--loglevel', 'warning',
          ...(options.serverArgs ?? [])
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] }
      );
      let stderr = '';
      child.stderr?.on('data', chunk => (stderr += String(chunk)));
      child.once('error', err => {
        failure ??= `cannot run ${serverBin} (${err.message}); install redis-server (Debian: apt-get install redis-server, which brings redis-cli) or set REDIS_SERVER_BIN`;
      });
      child.once('exit', code => {
        if (code !== null && code !== 0) failure ??= `node ${port} exited with ${code}: ${stderr.trim()}`;
      });
      children.set(port, child);
    }

    const deadline = Date.now() + READY_TIMEOUT_MS;
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (;;) {
        if (failure) throw new Error(`test redis cluster: ${failure}`);
        if (await check().catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`test redis cluster: timed out waiting for ${what}`);
        await sleep(50);
      }
    };

    await run(cliBin, ['--version']).catch((err: Error) => {
      throw new Error(`test redis cluster: cannot run ${cliBin} (${err.message}); install redis-tools (Debian; redis-server depends on it) or set REDIS_CLI_BIN`);
    });
    for (const port of ports) await until(`node ${port} to answer`, async () => (await cli(port, 'PING')).trim() === 'PONG');
    await run(cliBin, ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes', ...auth()], { timeout: 30_000 });

    const cluster = handle();
    // Every node agrees that all slots are served, and every replica has finished its first sync.
    await cluster.waitUntilHealthy(Math.max(1000, deadline - Date.now()));
    await cluster.waitForReplicas(Math.max(1000, deadline - Date.now()));
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }

  function handle(): TestRedisCluster {
    const paused = new Set<number>();
    const alive = () => ports.filter(p => {
      const c = children.get(p);
      return c && c.exitCode === null && c.signalCode === null && !paused.has(p);
    });

    const nodes = async (): Promise<ClusterNode[]> => {
      const out = await cli(alive()[0]!, 'CLUSTER', 'NODES');
      const list: ClusterNode[] = [];
      for (const line of out.trim().split('\n')) {
        // <id> <ip:port@bus> <flags> <master id|-> <ping> <pong> <epoch> <link> <slot> …
        const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
        if (!id || !address || !flags || flags.includes('fail') || flags.includes('noaddr')) continue;
        const port = Number(address.split('@')[0]!.split(':')[1]);
        const role = flags.includes('master') ? 'master' : 'replica';
        list.push({
          port,
          id,
          role,
          ...(role === 'replica' && masterId && masterId !== '-' ? { masterId } : {}),
          slots: slots.filter(s => !s.startsWith('[')).map(s => {
            const [a, b] = s.split('-').map(Number);
            return [a!, b ?? a!] as [number, number];
          })
        });
      }
      return list;
    };

    return {
      urls: ports.map(p => `redis://127.0.0.1:${p}`),
      ports,
      nodes,
      cli,
      async masterOf(key) {
        const slot = Number((await cli(alive()[0]!, 'CLUSTER', 'KEYSLOT', key)).trim());
        const master = (await nodes()).find(n => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b));
        if (!master) throw new Error(`test redis cluster: no live master serves slot ${slot}`);
        return master;
      },
      async kill(port) {
        const child = children.get(port);
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      },
      usePassword(value) {
        password = value;
      },
      pause(port) {
        paused.add(port);
        children.get(port)?.kill('SIGSTOP');
      },
      resume(port) {
        children.get(port)?.kill('SIGCONT');
        paused.delete(port);
      },
      async waitForReplicas(timeoutMs = READY_TIMEOUT_MS) {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const masters = (await nodes().catch(() => [])).filter(n => n.role === 'master');
          const synced = await Promise.all(
            masters.map(m =>
              cli(m.port, 'INFO', 'replication').then(
                info => /slave0:.*state=online/.test(info),
                () => false
              )
            )
          );
          if (masters.length === 3 && synced.every(Boolean)) return;
          if (Date.now() > end) throw new Error(`test redis cluster: replicas not in sync within ${timeoutMs} ms`);
          await sleep(50);
        }
      },
      async waitUntilHealthy(timeoutMs = READY_TIMEOUT_MS) {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const states = await Promise.all(alive().map(p => cli(p, 'CLUSTER', 'INFO').catch(() => '')));
          if (states.every(s => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s))) return;
          if (Date.now() > end) throw new Error(`test redis cluster: not healthy within ${timeoutMs} ms`);
          await sleep(50);
        }
      },
      stop
    };
  }
}
