/**
 * The MCP Apps gallery: the example servers of the ext-apps project
 * (modelcontextprotocol/ext-apps, `examples/`), as published on npm at 2.x
 * and installed apart from this server in gallery/ (`npm --prefix gallery ci`).
 * Each is mounted at `/<slug>/mcp`.
 *
 * `offline` says whether the app does everything it can with no network:
 * `full`, or `partial` with what needs the network (the server starts and
 * lists its tools either way).
 */
export interface GalleryApp {
  slug: string;
  /** npm package name, pinned in gallery/package.json. */
  packageName: string;
  title: string;
  offline: 'full' | 'partial';
  /** What needs the network, for `partial`. */
  needsNetwork?: string;
}

const app = (slug: string, title: string, needsNetwork?: string): GalleryApp => ({
  slug,
  packageName: `@modelcontextprotocol/server-${slug}`,
  title,
  offline: needsNetwork ? 'partial' : 'full',
  ...(needsNetwork ? { needsNetwork } : {})
});

export const GALLERY_APPS: readonly GalleryApp[] = [
  app('basic-vanillajs', 'Basic app (plain JavaScript)'),
  app('basic-react', 'Basic app (React)'),
  app('basic-preact', 'Basic app (Preact)'),
  app('basic-solid', 'Basic app (Solid)'),
  app('basic-svelte', 'Basic app (Svelte)'),
  app('basic-vue', 'Basic app (Vue)'),
  app('budget-allocator', 'Budget allocator'),
  app('cohort-heatmap', 'Cohort heatmap'),
  app('customer-segmentation', 'Customer segmentation'),
  app('debug', 'Debug (every host/view message)'),
  app('map', 'Map', 'place search (nominatim.openstreetmap.org, fetched by the server), the globe library and its tiles (cesium.com, loaded by the view)'),
  app('pdf', 'PDF viewer', 'the PDFs (https://arxiv.org only, fetched by the server) and the standard fonts the view loads'),
  app('scenario-modeler', 'Scenario modeler'),
  app('shadertoy', 'Shadertoy (WebGL)'),
  app('sheet-music', 'Sheet music', 'the sound font, loaded by the view'),
  app('system-monitor', 'System monitor (simulated unless the operator opts in)'),
  app('threejs', 'Three.js scene (WebGL)'),
  app('transcript', 'Transcript'),
  app('video-resource', 'Video resource', 'the sample videos (test-videos.co.uk), fetched by the server'),
  app('wiki-explorer', 'Wikipedia explorer', 'the Wikipedia pages, fetched by the server')
];

export function findGalleryApp(slug: string): GalleryApp | undefined {
  return GALLERY_APPS.find(a => a.slug === slug);
}
