/**
 * Argument completion (`completion/complete`, MCP server/utilities/completion)
 * for prompt arguments and resource-template variables. The SDK's McpServer
 * answers the method from the completers attached with `completable(...)`
 * (prompts) and `ResourceTemplate` `complete` callbacks; these are the value
 * sources they use. At most 100 values per answer (spec limit).
 */
import { STATIC_RESOURCE_COUNT } from './content.js';

export const TEMPERATURES = ['0', '0.3', '0.5', '0.7', '1.0'];
export const STYLES = ['casual', 'formal', 'technical', 'friendly'];

/** Values that start with what the user typed (case-insensitive), in their listed order. */
export const completeFrom =
  (values: readonly string[]) =>
  (typed: string | undefined): string[] =>
    values.filter(v => v.toLowerCase().startsWith((typed ?? '').toLowerCase())).slice(0, 100);

/** Static resource ids 1..100 that start with the typed digits. */
export const completeResourceId = completeFrom(Array.from({ length: STATIC_RESOURCE_COUNT }, (_, i) => String(i + 1)));
