// The Redis key and channel names belong to the read model's contract,
// common/read-model.ts. Re-exported here for the modules that still import
// them from this file (api/submit.ts, the ops scripts, an integration test).
export { keys } from './read-model.js';
