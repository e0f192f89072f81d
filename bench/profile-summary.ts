/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): the top
 * functions by self time and by inclusive time (self + callees; a function
 * that recurses is counted once per sample), and the share of time per
 * package / source area.
 *
 * Usage: tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top N] [--filter substring] [--callers name]
 *   --callers: who calls functions whose name is `name` (time spent in them, by caller stack of 3 frames).
 *   A directory means: its largest .cpuprofile (with `--import tsx` V8 also
 *   writes one for the ESM loader worker thread; the main thread's is the big one).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const TOP = Number(opt('--top') ?? 25);
const FILTER = opt('--filter');
const CALLERS = opt('--callers');
let file = args[0];
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top N] [--filter substring]');
  process.exit(2);
}
if (statSync(file).isDirectory()) {
  const dir = file;
  const largest = readdirSync(dir)
    .filter(f => f.endsWith('.cpuprofile'))
    .map(f => ({ f: join(dir, f), size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size)[0];
  if (!largest) throw new Error(`no .cpuprofile in ${dir}`);
  file = largest.f;
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample: timeDeltas[i] is the gap before sample i; attribute it to sample i.
const selfUs = new Map<number, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  total += dt;
}

const short = (url: string) => {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const src = u.search(/\/(src|bench|test)\//);
  return src >= 0 ? u.slice(src + 1) : u;
};
const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'}  ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const area = new Map<string, number>();
let idle = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  if (name === '(idle)') idle += us;
  const k = keyOf(node.callFrame);
  self.set(k, (self.get(k) ?? 0) + us);
  // Area: the package or our source directory.
  const s = short(node.callFrame.url);
  const a = IDLE.has(name) ? name : !s ? '(native / builtin)' : s.startsWith('node:') ? 'node: core' : s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.includes('/') ? s.split('/').slice(0, s.startsWith('src/') ? 2 : 1).join('/') : s;
  area.set(a, (area.get(a) ?? 0) + us);
  // Inclusive: walk the stack once per distinct frame key.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = keyOf(byId.get(cur)!.callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

const busy = total - idle;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const print = (title: string, m: Map<string, number>, skip: (k: string) => boolean = () => false) => {
  console.log(`\n${title}`);
  const rows = [...m.entries()].filter(([k]) => !skip(k) && (!FILTER || k.includes(FILTER))).sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [k, us] of rows) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
};

console.log(`${file}`);
console.log(`wall ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, sampled ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (percentages are of busy time)`);
print('Self time by area', area);
print('Top self time', self);
const boring = (k: string) => /^\((root|program|idle|garbage collector)\)/.test(k) || /^(processTicksAndRejections|runMicrotasks|emit|listOnTimeout|processTimers|\(anonymous\)  node:)/.test(k);
print('Top inclusive time', inclusive, boring);

if (CALLERS) {
  // Inclusive time of every `CALLERS` frame, keyed by its three nearest callers.
  const byStack = new Map<string, number>();
  for (const [id, us] of selfUs) {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (byId.get(cur)!.callFrame.functionName !== CALLERS) continue;
      const chain: string[] = [];
      for (let p = parent.get(cur); p !== undefined && chain.length < 3; p = parent.get(p)) chain.push(keyOf(byId.get(p)!.callFrame));
      const k = chain.join('  <-  ');
      byStack.set(k, (byStack.get(k) ?? 0) + us);
      break;
    }
  }
  console.log(`\nCallers of ${CALLERS} (inclusive time)`);
  for (const [k, us] of [...byStack.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
}
