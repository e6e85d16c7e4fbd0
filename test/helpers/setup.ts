// Loaded before every integration test file: js-ipfs and friends need
// Promise.withResolvers, which Node 20 lacks (PEERS.md).
import './withResolvers.cjs';
