// The test provider uses oidc-provider untyped (no bundled types); only test/helpers/oidc-provider/process.ts imports it.
declare module 'oidc-provider';
