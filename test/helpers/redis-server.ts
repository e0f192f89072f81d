/**
 * A real `redis-server` for tests (STYLE.md habit 11: black-box tests with
 * real peers). Starts the binary on a free port with persistence off, waits
 * until it answers PING, and can stop and start it again on the same port so
 * that failure tests can take Redis away and bring it back.
 *
 * When `REDIS_URL` is set, that server is used instead and nothing is
 * spawned; `canRestart` is then false and failure tests skip themselves.
 * The binary is `REDIS_SERVER_BIN` or `redis-server` on the PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

import { freePort } from './free-port.js';

export interface TestRedis {
  url: string;
  /** False when using an external `REDIS_URL` (stop/start/restart then throw). */
  canRestart: boolean;
  /** Stops the server (keeps the port for `start`). */
  stop(): Promise<void>;
  /** Starts it again on the same port, resolves once it answers. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL (a crash: no shutdown save); `start` brings it back on the same port and directory. */
  crash(): Promise<void>;
}

export interface TestRedisOptions {
  /**
   * Persistence: an append-only file in `dir` with this fsync policy (the
   * default is no persistence at all). A restart reads the file back.
   */
  aof?: { dir: string; appendfsync: 'always' | 'everysec' | 'no' };
}

const READY_TIMEOUT_MS = 10_000;

function answersPing(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', chunk => {
      data += chunk.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external) {
    const refuse = async () => {
      throw new Error('test redis: cannot stop or start an external REDIS_URL server');
    };
    return { url: external, canRestart: false, stop: async () => undefined, start: refuse, restart: refuse, crash: refuse };
  }

  const port = await freePort();
  const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  async function start(): Promise<void> {
    if (child) return;
    const persistence = options.aof
      ? ['--appendonly', 'yes', '--appendfsync', options.aof.appendfsync, '--dir', options.aof.dir]
      : ['--appendonly', 'no'];
    const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--protected-mode', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe']
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', chunk => (stderr += chunk.toString()));
    let spawnError: Error | undefined;
    proc.once('error', err => (spawnError = err));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new Error(`test redis: cannot run ${binary} (${spawnError.message}): run \`apt-get install redis-server\` (npm test installs it), set REDIS_SERVER_BIN, or set REDIS_URL`);
      if (proc.exitCode !== null) throw new Error(`test redis: ${binary} exited with ${proc.exitCode}: ${stderr.trim()}`);
      if (await answersPing(port)) return;
      if (Date.now() > deadline) throw new Error(`test redis: no answer on port ${port} within ${READY_TIMEOUT_MS} ms`);
      await new Promise(r => setTimeout(r, 25));
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const hard = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(hard);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    canRestart: true,
    stop: async () => {
      await stop();
    },
    start,
    crash: async () => {
      const proc = child;
      if (!proc) return;
      child = undefined;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      await stop();
      await start();
    }
  };
}

/** Same helper under the name other suites may look for. */
export const startRedisServer = startTestRedis;
