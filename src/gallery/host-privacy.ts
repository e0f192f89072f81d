/**
 * What keeps the gallery from exposing the machine it runs on. Each rule
 * sits between a client's `tools/call` and the app:
 *
 * - system-monitor: its two tools read the host (hostname, CPU model and
 *   load, memory, uptime). Unless the operator opts in
 *   (`EXAMPLE_APPS_SYSTEM_MONITOR_REAL=true`) they are answered here, from
 *   a simulated machine, and the app is never asked.
 * - pdf: the app fetches any https URL it is given, which would let a
 *   caller make this server fetch from its own network. Only
 *   `https://arxiv.org/` documents (the app's own default) go through.
 *   Local files stay closed because the app only opens those under the
 *   client's roots, and the gallery's client declares none (./backend.ts).
 *
 * The other apps read nothing from the host (checked when they were added:
 * their server code imports only `node:fs` for their own bundled HTML,
 * `node:path` and `node:url`; debug's log file is set to the null device).
 */
import type { CallToolResult } from '@modelcontextprotocol/server';

export interface HostPrivacyOptions {
  /** `EXAMPLE_APPS_SYSTEM_MONITOR_REAL`: system-monitor reports the real machine. */
  systemMonitorReal: boolean;
  /** Clock (ms), for the simulated machine's counters. */
  now?: () => number;
}

/** The answer to a call that the gallery handles itself, or undefined to let the app answer. */
export type ToolCallRule = (name: string, args: Record<string, unknown>) => CallToolResult | undefined;

export function hostPrivacyRule(slug: string, options: HostPrivacyOptions): ToolCallRule | undefined {
  if (slug === 'system-monitor' && !options.systemMonitorReal) return simulatedSystemMonitor(options.now ?? Date.now);
  if (slug === 'pdf') return onlyArxivPdfs;
  return undefined;
}

const refuse = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** Every string argument named `url` must be an https://arxiv.org/ address. */
export const onlyArxivPdfs: ToolCallRule = (_name, args) => {
  for (const [key, value] of Object.entries(args)) {
    if (key !== 'url' || value === undefined) continue;
    let url: URL | undefined;
    try {
      url = typeof value === 'string' ? new URL(value) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || (url.hostname !== 'arxiv.org' && url.hostname !== 'www.arxiv.org') || url.port !== '') {
      return refuse('This server only opens PDFs from https://arxiv.org/ (the gallery does not fetch other addresses or read local files).');
    }
  }
  return undefined;
};

const GiB = 1024 ** 3;
const CORES = 4;

/**
 * A made-up 4-core, 16 GiB machine whose load moves smoothly with the clock,
 * in the app's own result shapes (`get-system-info`, `poll-system-stats`).
 */
export function simulatedSystemMonitor(now: () => number): ToolCallRule {
  const bootedAt = now() - 3 * 86_400_000;
  return name => {
    if (name === 'get-system-info') {
      const info = {
        hostname: 'simulated-host',
        platform: 'linux x64',
        arch: 'x64',
        cpu: { model: 'Simulated CPU (set EXAMPLE_APPS_SYSTEM_MONITOR_REAL=true for real figures)', count: CORES },
        memory: { totalBytes: 16 * GiB }
      };
      return { content: [{ type: 'text', text: JSON.stringify(info) }], structuredContent: info };
    }
    if (name === 'poll-system-stats') {
      const t = now();
      const seconds = (t - bootedAt) / 1000;
      // Cumulative CPU counters (ms), as os.cpus() gives them. Busy share 0.4 + 0.3 sin(s/20 + i),
      // so idle time is the integral of its complement (never decreasing).
      const cores = Array.from({ length: CORES }, (_, i) => ({
        idle: Math.round(1000 * (0.6 * seconds + 6 * Math.cos(seconds / 20 + i) + 6)),
        total: Math.round(seconds * 1000)
      }));
      const usedPercent = Math.round(45 + 15 * Math.sin(seconds / 60));
      const usedBytes = Math.round((16 * GiB * usedPercent) / 100);
      const stats = {
        cpu: { cores },
        memory: { usedBytes, usedPercent, freeBytes: 16 * GiB - usedBytes },
        uptime: { seconds: Math.round(seconds) },
        timestamp: new Date(t).toISOString()
      };
      return { content: [{ type: 'text', text: JSON.stringify(stats) }], structuredContent: stats };
    }
    return undefined;
  };
}
