/**
 * The fixture set the official MCP conformance suite
 * (`@modelcontextprotocol/conformance`) calls by name: `test_*` tools,
 * `test://` resources and `test_*` prompts. Names, arguments and outputs are
 * the ones the suite's scenarios assert; each fixture is written once and
 * serves both eras (the multi-round-trip ones through the SDK's legacy shim
 * on 2025-era sessions).
 */
import { randomUUID } from 'node:crypto';

import type { CallToolResult, InputRequests, McpServer, ServerContext } from '@modelcontextprotocol/server';
import {
  CLIENT_CAPABILITIES_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  acceptedContent,
  completable,
  fromJsonSchema,
  inputRequired,
  inputResponse
} from '@modelcontextprotocol/server';
import { z } from 'zod';

import { TINY_PNG_BASE64, TINY_WAV_BASE64 } from './content.js';
import type { FeatureEnv } from './env.js';
import { samplingText } from './interactive.js';
import type { ResourceDirectory } from './resources.js';

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const pause = (ms: number) => new Promise(r => setTimeout(r, ms));
const noArgs = z.object({});

const askName = () =>
  inputRequired.elicit({
    message: 'What is your name?',
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }
  });
const askConfirm = () =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] }
  });
const elicitOutcome = (ctx: ServerContext, key: string) => {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  return view.kind === 'elicit' ? { action: view.action, content: view.content ?? {} } : undefined;
};

// Schemas are built once per process, not per McpServer: the 2026-07-28 path
// builds a fresh McpServer for every request, and fromJsonSchema compiles an
// Ajv validator on the spot (it dominated the per-request CPU profile; see
// docs/performance.md).
const samplingInput = z.object({ prompt: z.string().describe('The prompt to send to the LLM') });
const elicitationInput = z.object({ message: z.string().describe('The message to show the user') });
const jsonSchema202012Input = fromJsonSchema({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' }
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false
});
// Hand-written JSON so the SEP-2243 `x-mcp-header` annotation is advertised verbatim.
const xMcpHeaderInput = fromJsonSchema<{ region?: string; level?: number }>({
  type: 'object',
  properties: {
    region: { type: 'string', description: 'mirrored into Mcp-Param-Region', 'x-mcp-header': 'Region' } as Record<string, unknown>,
    level: { type: 'integer', description: 'not mirrored' }
  }
});
const promptWithArgumentsArgs = z.object({
  arg1: completable(z.string().describe('First test argument'), v => ['test', 'testing', 'tested'].filter(x => x.startsWith(v ?? ''))),
  arg2: z.string().describe('Second test argument')
});
const promptWithResourceArgs = z.object({ resourceUri: z.string().describe('URI of the resource to embed') });
const resourceUpdatedInput = z.object({ uri: z.string().max(2048).default('test://watched-resource').describe('URI of the resource that changed') });

function registerFixtureTools(server: McpServer, env: FeatureEnv): void {
  const tool = (name: string, description: string, cb: (ctx: ServerContext) => Promise<CallToolResult | ReturnType<typeof inputRequired>>) =>
    server.registerTool(name, { description: `[conformance fixture] ${description}`, inputSchema: noArgs }, async (_args, ctx) => cb(ctx));

  // --- content types -------------------------------------------------------
  tool('test_simple_text', 'Returns one text block.', async () => text('This is a simple text response for testing.'));
  tool('test_image_content', 'Returns one image block.', async () => ({ content: [{ type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' }] }));
  tool('test_audio_content', 'Returns one audio block.', async () => ({ content: [{ type: 'audio', data: TINY_WAV_BASE64, mimeType: 'audio/wav' }] }));
  tool('test_embedded_resource', 'Returns an embedded resource.', async () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }]
  }));
  tool('test_multiple_content_types', 'Returns text, image and resource blocks.', async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } }
    ]
  }));
  tool('test_error_handling', 'Fails on purpose (isError result).', async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });

  // --- logging, progress, streams ------------------------------------------
  tool('test_tool_with_logging', 'Emits three log messages while running.', async ctx => {
    for (const [i, message] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
      if (i > 0) await pause(50);
      await ctx.mcpReq.log('info', message);
    }
    return text('Tool with logging executed successfully');
  });
  tool('test_logging_tool', 'Logs through the request-scoped channel (delivered only when the request sets _meta logLevel on 2026-07-28).', async ctx => {
    await ctx.mcpReq.log('info', 'test_logging_tool ran');
    return text('logged through the request-scoped, logLevel-gated channel');
  });
  tool('test_tool_with_progress', 'Reports progress 0, 50, 100 when the request carries a progressToken.', async ctx => {
    const token = ctx.mcpReq._meta?.progressToken;
    if (token !== undefined) {
      for (const progress of [0, 50, 100]) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100, message: `Progress ${progress}%` } });
        if (progress < 100) await pause(50);
      }
    }
    return text(String(token ?? 'no-progress-token'));
  });
  tool('test_reconnection', 'Closes the SSE response stream mid-call (SEP-1699); the client reconnects with Last-Event-ID and receives the result.', async ctx => {
    ctx.http?.closeSSE?.();
    await pause(100);
    return text('Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.');
  });
  tool('test_streaming_elicitation', 'Answers with result frames only (no top-level server requests on the response stream).', async () =>
    text('stream observed: result frames only, no top-level requests')
  );

  // --- sampling and elicitation (2025 scenarios, via the legacy shim) -------
  server.registerTool(
    'test_sampling',
    { description: '[conformance fixture] Requests an LLM completion from the client.', inputSchema: samplingInput },
    async ({ prompt }, ctx) => {
      const view = inputResponse(ctx.mcpReq.inputResponses, 'llm');
      if (view.kind === 'sampling') return text(`LLM response: ${samplingText(view.result) || 'No response'}`);
      return inputRequired({ inputRequests: { llm: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }) } });
    }
  );
  server.registerTool(
    'test_elicitation',
    { description: '[conformance fixture] Requests user input from the client.', inputSchema: elicitationInput },
    async ({ message }, ctx) => {
      const outcome = elicitOutcome(ctx, 'answer');
      if (outcome) return text(`User response: action=${outcome.action}, content=${JSON.stringify(outcome.content)}`);
      return inputRequired({
        inputRequests: {
          answer: inputRequired.elicit({
            message,
            requestedSchema: { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] }
          })
        }
      });
    }
  );
  tool('test_elicitation_sep1034_defaults', 'Elicitation whose fields all carry defaults (SEP-1034).', async ctx => {
    const outcome = elicitOutcome(ctx, 'form');
    if (outcome) return text(`Elicitation completed: action=${outcome.action}, content=${JSON.stringify(outcome.content)}`);
    return inputRequired({
      inputRequests: {
        form: inputRequired.elicit({
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
              verified: { type: 'boolean', description: 'Verification status', default: true }
            },
            required: []
          }
        })
      }
    });
  });
  tool('test_elicitation_sep1330_enums', 'Elicitation with the five enum schema variants (SEP-1330).', async ctx => {
    const outcome = elicitOutcome(ctx, 'form');
    if (outcome) return text(`Elicitation completed: action=${outcome.action}, content=${JSON.stringify(outcome.content)}`);
    const requestedSchema = {
      type: 'object',
      properties: {
        untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
        titledSingle: {
          type: 'string',
          description: 'Select one option with titles',
          oneOf: [
            { const: 'value1', title: 'First Option' },
            { const: 'value2', title: 'Second Option' },
            { const: 'value3', title: 'Third Option' }
          ]
        },
        legacyEnum: { type: 'string', description: 'Select one option (legacy)', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
        untitledMulti: { type: 'array', description: 'Select multiple options', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
        titledMulti: {
          type: 'array',
          description: 'Select multiple options with titles',
          minItems: 1,
          maxItems: 3,
          items: {
            anyOf: [
              { const: 'value1', title: 'First Choice' },
              { const: 'value2', title: 'Second Choice' },
              { const: 'value3', title: 'Third Choice' }
            ]
          }
        }
      },
      required: []
    };
    return inputRequired({
      inputRequests: { form: inputRequired.elicit({ message: 'Please select options from the enum fields', requestedSchema: requestedSchema as never }) }
    });
  });

  // --- schemas and headers ----------------------------------------------------
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: '[conformance fixture] Input schema using JSON Schema 2020-12 keywords ($defs, $anchor, $ref, allOf/anyOf, if/then/else).',
      inputSchema: jsonSchema202012Input
    },
    async args => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`)
  );
  server.registerTool(
    'test_x_mcp_header',
    {
      description: '[conformance fixture] Mirrors `region` into the Mcp-Param-Region header (SEP-2243).',
      inputSchema: xMcpHeaderInput
    },
    async args => text(`region=${args.region ?? '<none>'}`)
  );

  // --- multi-round-trip (SEP-2322) --------------------------------------------
  tool('test_missing_capability', 'Needs the sampling client capability (drives the -32021 rejection).', async ctx => {
    if (ctx.mcpReq.inputResponses?.['llm_answer'] !== undefined) return text('sampling round-trip complete');
    return inputRequired({
      inputRequests: { llm_answer: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Reply with the single word: pong' } }], maxTokens: 16 }) }
    });
  });
  tool('test_input_required_result_elicitation', 'Asks for the caller name by elicitation.', async ctx => {
    const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
    if (typeof name === 'string') return text(`Hello, ${name}!`);
    return inputRequired({ inputRequests: { user_name: askName() } });
  });
  tool('test_input_required_result_sampling', 'Asks for an LLM completion.', async ctx => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (view.kind === 'sampling') return text(`Sampling response: ${samplingText(view.result)}`);
    const raw = ctx.mcpReq.inputResponses?.['capital_question'];
    if (raw !== undefined) return text(`Sampling response: ${JSON.stringify(raw)}`);
    return inputRequired({
      inputRequests: {
        capital_question: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 })
      }
    });
  });
  tool('test_input_required_result_list_roots', 'Asks for the client roots.', async ctx => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    if (view.kind === 'roots') return text(`Client exposed ${view.roots.length} root(s): ${view.roots.map(r => r.uri).join(', ')}`);
    return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });
  tool('test_input_required_result_request_state', 'Round-trips sealed requestState with an elicitation.', async ctx => {
    if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm') === undefined) {
      return inputRequired({ inputRequests: { confirm: askConfirm() }, requestState: await env.stateCodec.mint({ tool: 'request_state', nonce: randomUUID() }, ctx) });
    }
    if (ctx.mcpReq.requestState<Record<string, unknown>>()?.['tool'] !== 'request_state') {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid requestState');
    }
    return text('state-ok: requestState verified and confirmation received');
  });
  tool('test_input_required_result_multiple_inputs', 'Asks for elicitation, sampling and roots in one round.', async ctx => {
    const responses = ctx.mcpReq.inputResponses;
    const name = acceptedContent<{ name: string }>(responses, 'user_name')?.name;
    const greeting = inputResponse(responses, 'greeting');
    const roots = inputResponse(responses, 'client_roots');
    if (typeof name === 'string' && greeting.kind === 'sampling' && roots.kind === 'roots') {
      return text(`${samplingText(greeting.result)} ${name} — ${roots.roots.length} root(s) visible`);
    }
    return inputRequired({
      inputRequests: {
        user_name: askName(),
        greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
        client_roots: inputRequired.listRoots()
      },
      requestState: await env.stateCodec.mint({ tool: 'multiple_inputs', nonce: randomUUID() }, ctx)
    });
  });
  tool('test_input_required_result_multi_round', 'Two elicitation rounds; the round lives in sealed requestState.', async ctx => {
    const state = ctx.mcpReq.requestState<Record<string, unknown>>();
    const round = state?.['tool'] === 'multi_round' && typeof state['round'] === 'number' ? state['round'] : 0;
    if (round === 0) {
      return inputRequired({
        inputRequests: {
          step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } })
        },
        requestState: await env.stateCodec.mint({ tool: 'multi_round', round: 1, nonce: randomUUID() }, ctx)
      });
    }
    if (round === 1) {
      const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'step1')?.name ?? 'unknown';
      return inputRequired({
        inputRequests: {
          step2: inputRequired.elicit({
            message: 'Step 2: What is your favorite color?',
            requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] }
          })
        },
        requestState: await env.stateCodec.mint({ tool: 'multi_round', round: 2, name, nonce: randomUUID() }, ctx)
      });
    }
    const color = acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
    return text(`Multi-round complete: ${String(state?.['name'] ?? 'unknown')} likes ${color}`);
  });
  tool('test_input_required_result_tampered_state', 'Rejects retries whose requestState fails verification (-32602).', async ctx => {
    if (ctx.mcpReq.requestState() !== undefined && acceptedContent(ctx.mcpReq.inputResponses, 'confirm') !== undefined) {
      return text('integrity-ok: requestState verified');
    }
    return inputRequired({ inputRequests: { confirm: askConfirm() }, requestState: await env.stateCodec.mint({ tool: 'tampered_state', nonce: randomUUID() }, ctx) });
  });
  tool('test_input_required_result_capabilities', 'Only requests input kinds the declared client capabilities cover.', async ctx => {
    if (ctx.mcpReq.inputResponses !== undefined) return text('Capability-aware input requests fulfilled');
    // Sampling and roots are deprecated capabilities (SEP-2577) but still declared by clients.
    const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
    const declared = (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as Record<string, unknown>;
    const inputRequests: InputRequests = {};
    if (declared['elicitation'] !== undefined) inputRequests['user_name'] = askName();
    if (declared['sampling'] !== undefined) {
      inputRequests['greeting'] = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }], maxTokens: 50 });
    }
    if (declared['roots'] !== undefined) inputRequests['client_roots'] = inputRequired.listRoots();
    if (Object.keys(inputRequests).length === 0) return text('No declared client capability supports an in-band input request');
    return inputRequired({ inputRequests });
  });

  // --- subscriptions/listen triggers (SEP-2575) -------------------------------
  tool('test_trigger_tool_change', 'Publishes notifications/tools/list_changed to open subscriptions/listen streams.', async () => {
    env.notify.toolsChanged();
    return text('tools_list_changed published');
  });
  tool('test_trigger_prompt_change', 'Publishes notifications/prompts/list_changed to open subscriptions/listen streams.', async () => {
    env.notify.promptsChanged();
    return text('prompts_list_changed published');
  });
  tool('test_trigger_resource_change', 'Publishes notifications/resources/list_changed to open subscriptions/listen streams.', async () => {
    env.notify.resourcesChanged();
    return text('resources_list_changed published');
  });
  server.registerTool(
    'test_trigger_resource_updated',
    {
      description:
        '[trigger] Publishes notifications/resources/updated for a URI to every follower on every instance (subscriptions/listen resourceSubscriptions, 2025 resources/subscribe).',
      inputSchema: resourceUpdatedInput
    },
    async ({ uri }) => {
      env.notify.resourceUpdated(uri);
      return text(`resource_updated published for ${uri}`);
    }
  );
}

function registerFixtureResources(server: McpServer, directory: ResourceDirectory): void {
  const fixed = (name: string, uri: string, title: string, description: string, mimeType: string, content: { text: string } | { blob: string }) => {
    server.registerResource(name, uri, { title, description, mimeType, cacheHint: { ttlMs: 60_000, cacheScope: 'public' } }, async () => ({
      contents: [{ uri, mimeType, ...content }]
    }));
    directory.add({ uri, name, title, description, mimeType });
  };
  fixed('static-text', 'test://static-text', 'Static Text Resource', '[conformance fixture] A static text resource', 'text/plain', {
    text: 'This is the content of the static text resource.'
  });
  fixed('static-binary', 'test://static-binary', 'Static Binary Resource', '[conformance fixture] A static binary resource (PNG)', 'image/png', { blob: TINY_PNG_BASE64 });
  fixed('watched-resource', 'test://watched-resource', 'Watched Resource', '[conformance fixture] Subscribe/unsubscribe target', 'text/plain', {
    text: 'Watched resource content'
  });

  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Resource Template', description: '[conformance fixture] Template with parameter substitution', mimeType: 'application/json' },
    async (uri, variables) => {
      const id = Array.isArray(variables['id']) ? variables['id'][0] : variables['id'];
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }
  );
}

function registerFixturePrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: '[conformance fixture] No arguments' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }]
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: '[conformance fixture] Two required arguments',
      argsSchema: promptWithArgumentsArgs
    },
    async ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] })
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: '[conformance fixture] Embeds the named resource',
      argsSchema: promptWithResourceArgs
    },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } }
      ]
    })
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: '[conformance fixture] Includes an image' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } }
    ]
  }));
  server.registerPrompt(
    'test_input_required_result_prompt',
    { title: 'MRTR Prompt', description: '[conformance fixture] Needs elicitation input before rendering (SEP-2322)' },
    async (ctx: ServerContext) => {
      const context = acceptedContent<{ context: string }>(ctx.mcpReq.inputResponses, 'user_context')?.context;
      if (typeof context === 'string') return { messages: [{ role: 'user', content: { type: 'text', text: `Use the following context: ${context}` } }] };
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({
            message: 'What context should the prompt use?',
            requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] }
          })
        }
      });
    }
  );
}

export function registerConformanceFixtures(server: McpServer, env: FeatureEnv, directory: ResourceDirectory): void {
  registerFixtureTools(server, env);
  registerFixtureResources(server, directory);
  registerFixturePrompts(server);
}
