/**
 * Tools that need input from the client: sampling (also with tools), form
 * and URL elicitation, and roots. Each is written once in the 2026-07-28
 * multi-round-trip style (`return inputRequired(...)`, read
 * `ctx.mcpReq.inputResponses` on the retry):
 *
 * - 2026-07-28 clients receive an `input_required` result and retry;
 * - 2025-era sessions are served by the SDK's legacy shim, which sends the
 *   embedded requests as real server-to-client requests (`sampling/createMessage`,
 *   `elicitation/create`, `roots/list`) on the session and re-enters the
 *   handler with the answers.
 *
 * Sampling and Roots are deprecated since 2026-07-28 (SEP-2577); they stay,
 * labelled in the description and `_meta`.
 */
import type { CallToolResult, ElicitRequestFormParams, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { inputRequired, inputResponse } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { DEPRECATION_NOTE, ICONS, deprecatedMeta } from './content.js';
import type { FeatureEnv } from './env.js';

const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError } : {}) });

/** Text of a sampling result's content (single block or array). */
export function samplingText(result: { content?: unknown }): string {
  const blocks = Array.isArray(result.content) ? result.content : [result.content];
  return blocks
    .map(b => {
      const block = b as { type?: string; text?: string; name?: string; input?: unknown };
      if (block?.type === 'text') return block.text ?? '';
      if (block?.type === 'tool_use') return `[tool_use ${block.name}(${JSON.stringify(block.input)})]`;
      return block?.type ? `[${block.type}]` : '';
    })
    .join(' ')
    .trim();
}

/**
 * The form shown by `startElicitation`: every field type the elicitation
 * schema allows (MCP 2025-11-25 client/elicitation "Supported Schema Types").
 */
export const ELICITATION_FORM: ElicitRequestFormParams['requestedSchema'] = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Full name', description: 'Your full name', minLength: 1, maxLength: 100 },
    email: { type: 'string', title: 'Email', description: 'Your email address', format: 'email' },
    website: { type: 'string', title: 'Website', description: 'Your website', format: 'uri' },
    birthday: { type: 'string', title: 'Birthday', description: 'Your date of birth', format: 'date' },
    meeting: { type: 'string', title: 'Meeting time', description: 'Preferred meeting time', format: 'date-time' },
    age: { type: 'integer', title: 'Age', description: 'Your age in years', minimum: 0, maximum: 150, default: 30 },
    rating: { type: 'number', title: 'Rating', description: 'Rate this server from 0 to 5', minimum: 0, maximum: 5, default: 4.5 },
    newsletter: { type: 'boolean', title: 'Newsletter', description: 'Subscribe to the newsletter', default: false },
    color: { type: 'string', title: 'Favourite colour', description: 'Untitled single-select enum', enum: ['red', 'green', 'blue'], default: 'blue' },
    size: {
      type: 'string',
      title: 'T-shirt size',
      description: 'Titled single-select enum',
      oneOf: [
        { const: 's', title: 'Small' },
        { const: 'm', title: 'Medium' },
        { const: 'l', title: 'Large' }
      ],
      default: 'm'
    },
    toppings: {
      type: 'array',
      title: 'Pizza toppings',
      description: 'Untitled multi-select enum',
      minItems: 0,
      maxItems: 3,
      items: { type: 'string', enum: ['cheese', 'mushroom', 'olive', 'pepper'] },
      default: ['cheese']
    },
    languages: {
      type: 'array',
      title: 'Languages',
      description: 'Titled multi-select enum',
      items: {
        anyOf: [
          { const: 'ts', title: 'TypeScript' },
          { const: 'py', title: 'Python' },
          { const: 'rs', title: 'Rust' }
        ]
      }
    }
  },
  required: ['name', 'email']
} as ElicitRequestFormParams['requestedSchema'];

// Built once per process, not per McpServer (see tools.ts and docs/performance.md).
const sampleLLMInput = z.object({
  prompt: z.string().describe('The prompt to send to the LLM'),
  maxTokens: z.number().int().min(1).max(4096).default(100).describe('Maximum number of tokens to generate')
});
const promptInput = z.object({ prompt: z.string().describe('The prompt to send to the LLM') });
const elicitUrlInput = z.object({
  url: z.url({ protocol: /^https?$/ }).optional().describe('URL to open (defaults to a page of this server)')
});

export function registerInteractiveTools(server: McpServer, env: FeatureEnv): void {
  server.registerTool(
    'sampleLLM',
    {
      title: 'Sample from the client LLM',
      description: `Asks the client's LLM to answer a prompt (sampling).${DEPRECATION_NOTE.sampling}`,
      inputSchema: sampleLLMInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
      icons: ICONS.tool,
      _meta: deprecatedMeta('sampling')
    },
    async ({ prompt, maxTokens }, ctx: ServerContext) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'completion');
      if (answer.kind === 'sampling') return text(`LLM sampling result: ${samplingText(answer.result)}`);
      return inputRequired({
        inputRequests: {
          completion: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: `Resource sampleLLM context: ${prompt}` } }],
            systemPrompt: 'You are a helpful test server.',
            maxTokens,
            temperature: 0.7,
            includeContext: 'none'
          })
        }
      });
    }
  );

  server.registerTool(
    'sampleLLMWithTools',
    {
      title: 'Sample with tools',
      description: `Asks the client's LLM to answer a prompt while offering it a tool (sampling with \`tools\`, MCP 2025-11-25). The client must declare sampling.tools.${DEPRECATION_NOTE.sampling}`,
      inputSchema: promptInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
      icons: ICONS.tool,
      _meta: deprecatedMeta('sampling')
    },
    async ({ prompt }, ctx: ServerContext) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'completion');
      if (answer.kind === 'sampling') {
        const stop = (answer.result as { stopReason?: string }).stopReason;
        return text(`LLM sampling with tools result (stopReason=${stop ?? 'unknown'}): ${samplingText(answer.result)}`);
      }
      return inputRequired({
        inputRequests: {
          completion: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens: 500,
            tools: [
              {
                name: 'get_weather',
                description: 'Get the current weather for a city',
                inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
              }
            ],
            toolChoice: { mode: 'auto' }
          })
        }
      });
    }
  );

  server.registerTool(
    'startElicitation',
    {
      title: 'Form elicitation',
      description: 'Asks the user to fill a form covering every elicitation field type (strings with formats, numbers, integer, boolean, single and multi-select enums, defaults).',
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: ICONS.user
    },
    async (ctx: ServerContext) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'form');
      if (answer.kind === 'elicit') {
        if (answer.action === 'accept') return text(`User provided: ${JSON.stringify(answer.content ?? {})}`);
        return text(`User ${answer.action === 'decline' ? 'declined' : 'cancelled'} the form.`);
      }
      return inputRequired({
        inputRequests: { form: inputRequired.elicit({ message: 'Please tell us about yourself (demo form: every field type).', requestedSchema: ELICITATION_FORM }) }
      });
    }
  );

  server.registerTool(
    'elicitUrl',
    {
      title: 'URL elicitation',
      description: 'Asks the user to open a URL out of band (URL-mode elicitation), e.g. to sign in to a third party. The client must declare elicitation.url.',
      inputSchema: elicitUrlInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
      icons: ICONS.user
    },
    async ({ url }, ctx: ServerContext) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'visit');
      if (answer.kind === 'elicit') {
        return answer.action === 'accept' ? text('The user completed the out-of-band step.') : text(`The user ${answer.action === 'decline' ? 'declined' : 'cancelled'} the out-of-band step.`);
      }
      return inputRequired({
        inputRequests: {
          visit: inputRequired.elicitUrl({ message: 'Please open this page to continue (demo of URL-mode elicitation).', url: url ?? `${env.baseUri}/` })
        }
      });
    }
  );

  server.registerTool(
    'listRoots',
    {
      title: 'List client roots',
      description: `Asks the client for its roots (directories it exposes).${DEPRECATION_NOTE.roots}`,
      annotations: { readOnlyHint: true, openWorldHint: false },
      icons: ICONS.tool,
      _meta: deprecatedMeta('roots')
    },
    async (ctx: ServerContext) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'roots');
      if (answer.kind === 'roots') {
        if (answer.roots.length === 0) return text('The client exposes no roots.');
        return text(`The client exposes ${answer.roots.length} root(s):\n${answer.roots.map(r => `- ${r.name ? `${r.name}: ` : ''}${r.uri}`).join('\n')}`);
      }
      return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    }
  );
}
