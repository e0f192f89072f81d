/**
 * What the test bench shares across every server instance of a process:
 * its bounds, the per-subject fault budget, the callers' dynamic
 * catalogues, pending URL elicitations, and the per-caller event channel.
 * Built once by ../index.ts; tool handlers reach the caller only through the
 * SDK's per-request `ctx` and reach state only through this object, so any
 * instance can answer any request, and one build of the catalogue serves
 * every instance of an era (../catalogue.ts).
 */
import { randomUUID } from 'node:crypto';

import type { ServerEvent } from '@modelcontextprotocol/server';

import type { Logger } from '../../logger.js';
import type { AudienceListener } from '../../store/event-bus.js';
import type { Store } from '../../store/store.js';
import { DynamicCatalogueStore, type ListKind } from './dynamic-catalogue.js';
import { FaultBudget, type ClientTestingLimits } from './limits.js';

/** The slice of ../events.ts `McpEventBus` the bench uses. */
export interface AudienceBus {
  publishTo(subject: string, event: ServerEvent): void;
  subscribeAll(listener: AudienceListener): () => void;
}

/** `clienttest:elicitation:{subject}`: a -32042 was answered; the next retry succeeds (10 min). */
export const elicitationKey = (subject: string) => `clienttest:elicitation:${subject || 'anonymous'}`;
const ELICITATION_TTL_MS = 10 * 60 * 1000;

export class ClientTestingServices {
  readonly faults: FaultBudget;
  readonly catalogue: DynamicCatalogueStore;
  readonly elicitations: { open(subject: string): Promise<string>; consume(subject: string): Promise<boolean> };

  constructor(
    readonly store: Store,
    readonly logger: Logger,
    readonly limits: ClientTestingLimits,
    readonly bus: AudienceBus
  ) {
    this.faults = new FaultBudget(store, limits.faultsPerMinute);
    this.catalogue = new DynamicCatalogueStore(store);
    this.elicitations = {
      open: async subject => {
        const id = randomUUID();
        await store.set(elicitationKey(subject), id, ELICITATION_TTL_MS);
        return id;
      },
      consume: async subject => (await store.consume(elicitationKey(subject))) !== undefined
    };
  }

  /** Tells `subject`'s sessions and listen streams (on every instance) that these lists changed. */
  announce(subject: string, lists: readonly ListKind[]): void {
    for (const list of lists) {
      this.bus.publishTo(subject, { kind: list === 'tools' ? 'tools_list_changed' : list === 'prompts' ? 'prompts_list_changed' : 'resources_list_changed' });
    }
  }
}
