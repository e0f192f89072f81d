/**
 * One catalogue per era per process, shared by every server instance.
 *
 * The SDK's `McpServer` keeps its registrations (tools, prompts, resources,
 * resource templates) in four plain objects, and each registration it builds
 * costs ~1.5 KiB per instance: a property store and six closures per tool,
 * allocated again by every instance that registers it. With some 80
 * registrations that was ~125 KiB of every idle 2025-era session, and ~100
 * KiB of garbage per 2026-07-28 request that did more than call one tool
 * (docs/performance.md, "The idle 2025 session").
 *
 * A registration is a pure value here (configs and schemas are module
 * constants; handlers reach the caller and the session only through the
 * SDK's per-request `ctx` and the process-wide services), so one instance per
 * era, the *template*, registers the catalogue once, and every
 * `CatalogueServer` adopts the template's four registries by reference: the
 * SDK's own `tools/list`, `tools/call`, `resources/read`, `prompts/get` and
 * `completion/complete` handlers, installed per instance with that
 * instance's era negotiation, request-state check and multi-round-trip shim,
 * then look the registrations up in the shared objects.
 *
 * Copy on write: the first time an instance registers something of its own
 * (the client-testing kit's per-caller tools, the Skills template) the
 * registry concerned is copied (references only: the records stay shared)
 * and the instance writes to its copy; the template never changes after its
 * build. Shared records are never enabled, disabled, updated or removed by an
 * instance (their closures belong to the template).
 *
 * This reaches the SDK's private registry fields (SDK 2.4, pinned in
 * package-lock.json): the SDK has no public way to share registrations
 * between instances. test/mcp/catalogue.test.ts checks the assumptions this
 * module makes about them, so an SDK upgrade that moves them fails there.
 */
import { McpServer } from '@modelcontextprotocol/server';

/** McpServer's registries (private in its typings). */
interface Registries {
  _registeredTools: Record<string, unknown>;
  _registeredPrompts: Record<string, unknown>;
  _registeredResources: Record<string, unknown>;
  _registeredResourceTemplates: Record<string, unknown>;
  /** Per-tool JSON Schema cache, filled on first use (a pure function of the shared schemas). */
  _toolInputSchemaJson: Record<string, unknown>;
  _completionHandlerInitialized: boolean;
  setCompletionRequestHandler(): void;
}

type RegistryName = '_registeredTools' | '_registeredPrompts' | '_registeredResources' | '_registeredResourceTemplates';

const REGISTRIES: readonly RegistryName[] = ['_registeredTools', '_registeredPrompts', '_registeredResources', '_registeredResourceTemplates'];

const internals = (server: McpServer) => server as unknown as Registries;

/** A frozen view of a template's registries. */
export interface SharedRegistries {
  readonly registries: Readonly<Record<RegistryName, Record<string, unknown>>>;
  readonly toolInputSchemaJson: Record<string, unknown>;
  readonly completions: boolean;
}

/** Takes the registries of `template`, fully built; the template must not register anything afterwards. */
export function shareRegistries(template: McpServer): SharedRegistries {
  const t = internals(template);
  for (const name of REGISTRIES) if (typeof t[name] !== 'object' || t[name] === null) throw new Error(`McpServer has no ${name}: the SDK changed (src/mcp/catalogue.ts)`);
  return {
    registries: Object.fromEntries(REGISTRIES.map(name => [name, t[name]])) as SharedRegistries['registries'],
    toolInputSchemaJson: t._toolInputSchemaJson,
    completions: t._completionHandlerInitialized === true
  };
}

/**
 * An `McpServer` that serves a shared catalogue (see the module comment).
 * Until `adopt`, it is an ordinary `McpServer`.
 */
export class CatalogueServer extends McpServer {
  /** Which registries are still the shared ones (a bit per REGISTRIES index). */
  private sharedBits = 0;

  /** Serves `shared`; `completions: false` leaves out the completion handler (an instance that serves one tools/call). */
  adopt(shared: SharedRegistries, options: { completions?: boolean } = {}): void {
    const self = internals(this);
    REGISTRIES.forEach((name, i) => {
      self[name] = shared.registries[name];
      this.sharedBits |= 1 << i;
    });
    self._toolInputSchemaJson = shared.toolInputSchemaJson;
    if (shared.completions && options.completions !== false) self.setCompletionRequestHandler();
  }

  /** Is `name`'s registry still the shared one? (tests) */
  sharesRegistry(name: RegistryName): boolean {
    return (this.sharedBits & (1 << REGISTRIES.indexOf(name))) !== 0;
  }

  /** Gives this instance its own copy of registry `name` before it writes to it. */
  ownRegistry(name: RegistryName): void {
    const bit = 1 << REGISTRIES.indexOf(name);
    if (!(this.sharedBits & bit)) return;
    const self = internals(this);
    self[name] = { ...self[name] };
    if (name === '_registeredTools') self._toolInputSchemaJson = {};
    this.sharedBits &= ~bit;
  }
}

// The three public ways to register write one registry each (registerResource:
// the resources or, given a ResourceTemplate, the templates): copy it first.
// Patched on the prototype, so no instance carries a closure for it; the
// TypeScript signatures (generic overloads) stay McpServer's own.
const writes: ReadonlyArray<[keyof McpServer, (args: unknown[]) => RegistryName]> = [
  ['registerTool', () => '_registeredTools'],
  ['registerPrompt', () => '_registeredPrompts'],
  ['registerResource', args => (typeof args[1] === 'string' ? '_registeredResources' : '_registeredResourceTemplates')]
];
for (const [method, registry] of writes) {
  const base = McpServer.prototype[method] as (...args: unknown[]) => unknown;
  Object.defineProperty(CatalogueServer.prototype, method, {
    value: function (this: CatalogueServer, ...args: unknown[]) {
      this.ownRegistry(registry(args));
      return base.apply(this, args);
    },
    writable: true,
    configurable: true
  });
}
