// A minimal MCP Apps host for test/apps/apps-host.browser.test.ts, bundled for
// the browser with esbuild at test time. It does what a chat client does with
// a tool that has `_meta.ui.resourceUri`: renders the ui:// resource in a
// sandboxed iframe (opaque origin, CSP built from the resource's
// `_meta.ui.csp`), runs ext-apps' AppBridge over postMessage, sends the tool
// input and result once the view is initialized, and forwards the view's
// `tools/call` to the MCP server (here: through the test, via the
// `mcpCallTool` function Playwright exposes).
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

const state = { initialized: false, delivered: false, appVersion: null, appCapabilities: null, sizes: [], toolCalls: [], logs: [], csp: '' };
window.hostState = state;

// The spec's CSP for an Apps resource: nothing from the network unless the
// server declared the origin in `_meta.ui.csp`.
function cspFor(csp = {}) {
  const extra = list => (list && list.length ? ' ' + list.join(' ') : '');
  const only = (list, none) => (list && list.length ? list.join(' ') : none);
  const res = extra(csp.resourceDomains);
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline'${res}`,
    `style-src 'self' 'unsafe-inline'${res}`,
    `img-src 'self' data:${res}`,
    `font-src 'self' data:${res}`,
    `media-src 'self' data:${res}`,
    `connect-src ${only(csp.connectDomains, "'none'")}`,
    `frame-src ${only(csp.frameDomains, "'none'")}`,
    `base-uri ${only(csp.baseUriDomains, "'self'")}`,
    "object-src 'none'"
  ].join('; ');
}

function withCsp(html, policy) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy.replace(/"/g, '&quot;')}">`;
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, m => m + meta) : meta + html;
}

window.startHost = async ({ html, csp, tool, toolArguments, toolResult, hostContext, hostCapabilities = { serverTools: {}, logging: {} } }) => {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts'); // no allow-same-origin: the view gets an opaque origin
  frame.title = 'MCP App: ' + tool.name;
  document.getElementById('slot').append(frame);

  const bridge = new AppBridge(
    null,
    { name: 'reference-test-host', version: '1.0.0' },
    hostCapabilities,
    { hostContext: { ...hostContext, toolInfo: { id: 1, tool } } }
  );
  bridge.oncalltool = async params => {
    state.toolCalls.push(params);
    return window.mcpCallTool(params);
  };
  bridge.onsizechange = ({ width, height }) => {
    state.sizes.push({ width, height });
    if (height) frame.style.height = `${Math.ceil(height)}px`;
  };
  bridge.onloggingmessage = params => state.logs.push(params);
  bridge.oninitialized = async () => {
    state.initialized = true;
    state.appVersion = bridge.getAppVersion() ?? null;
    state.appCapabilities = bridge.getAppCapabilities() ?? null;
    await bridge.sendToolInput({ arguments: toolArguments });
    await bridge.sendToolResult(toolResult);
    state.delivered = true;
  };
  window.hostBridge = bridge;

  // Listen before the view can send ui/initialize; the iframe's WindowProxy
  // stays the same when srcdoc navigates it.
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  state.csp = cspFor(csp);
  frame.srcdoc = withCsp(html, state.csp);
};

window.setHostContext = context => window.hostBridge.setHostContext(context);
