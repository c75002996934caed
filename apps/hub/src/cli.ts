#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// beacon-hub idles in the background of every MCP client session, so memory matters more
// than peak throughput: a 1 MiB young generation and V8's size-over-speed heuristics take the
// hub with 50 instances from about 140 MiB to under 100 MiB RSS, for a fraction of a
// millisecond per proxied call (bench/README.md). Set before anything else is loaded.
setFlagsFromString('--max-semi-space-size=1');
setFlagsFromString('--optimize-for-size');
await import('./main.js');
