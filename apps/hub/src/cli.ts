#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// beacon-hub idles in the background of every MCP client session, so memory matters: V8's
// size-over-speed heuristics take the hub with 100 instances from about 129 MiB to about
// 91 MiB RSS. A 1 MiB young generation saved 3 MiB more but cost a scavenge every few calls,
// which made a proxied call slower than a direct one, so it is not set (bench/README.md).
// Set before anything else is loaded.
setFlagsFromString('--optimize-for-size');
await import('./route.js');
