// A district's upstream client, as callers have always named it: the client's half of the
// district's chain, composed in src/upstream/chain.ts with the district's half beside it.
export { createUpstreamClient, type DistrictUpstreamClient, type UpstreamClientDeps } from './chain.js';
export type { SharedBudgets } from './shared-budget.js';
