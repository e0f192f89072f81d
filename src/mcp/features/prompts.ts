/**
 * Prompts: one without arguments, one with arguments and argument
 * completion, one embedding a resource.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { completable, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { FeatureEnv } from './env.js';
import { completeFrom, completeResourceId, STYLES, TEMPERATURES } from './completions.js';
import { ICONS, TINY_PNG_BASE64 } from './content.js';
import { STATIC_RESOURCE_COUNT, staticResourceContents } from './resources.js';


// Built once per process, not per McpServer (see tools.ts and docs/performance.md).
const complexPromptArgs = z.object({
  temperature: completable(z.string().describe('Temperature setting, e.g. 0.7'), completeFrom(TEMPERATURES)),
  style: completable(z.string().describe('Output style'), completeFrom(STYLES)).optional()
});
const resourcePromptArgs = z.object({
  resourceId: completable(z.string().describe(`Resource ID to include (1-${STATIC_RESOURCE_COUNT})`), completeResourceId)
});

export function registerPrompts(server: McpServer, _env: FeatureEnv): void {
  server.registerPrompt(
    'simple_prompt',
    { title: 'Simple prompt', description: 'A prompt without arguments.', icons: ICONS.text },
    async () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } }]
    })
  );

  server.registerPrompt(
    'complex_prompt',
    {
      title: 'Complex prompt',
      description: 'A prompt with arguments (both complete with completion/complete) and an image.',
      argsSchema: complexPromptArgs,
      icons: ICONS.text
    },
    async ({ temperature, style }) => ({
      messages: [
        { role: 'user', content: { type: 'text', text: `This is a complex prompt with arguments: temperature=${temperature}, style=${style ?? 'unspecified'}` } },
        { role: 'assistant', content: { type: 'text', text: 'I understand. You have provided a complex prompt with temperature and style arguments. How would you like me to proceed?' } },
        { role: 'user', content: { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' } }
      ]
    })
  );

  server.registerPrompt(
    'resource_prompt',
    {
      title: 'Resource prompt',
      description: `A prompt that embeds one of the static resources (resourceId 1-${STATIC_RESOURCE_COUNT}).`,
      argsSchema: resourcePromptArgs,
      icons: ICONS.text
    },
    async ({ resourceId }) => {
      const id = /^\d{1,3}$/.test(resourceId) ? Number(resourceId) : NaN;
      if (!(id >= 1 && id <= STATIC_RESOURCE_COUNT)) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `resourceId must be an integer from 1 to ${STATIC_RESOURCE_COUNT}`);
      }
      return {
        messages: [
          { role: 'user', content: { type: 'text', text: `This prompt includes Resource ${id}. Please analyze the following resource:` } },
          { role: 'user', content: { type: 'resource', resource: staticResourceContents(id) } }
        ]
      };
    }
  );
}
