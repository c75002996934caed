#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// beacon-hub idles in the background of every MCP client session, so memory matters: V8's
// size-over-speed heuristics take the hub with 100 instances from about 129 MiB to about
// 91 MiB RSS. Set before anything else is loaded. The young generation's bound only takes effect
// on the command line: the bridge starts the shared hub with it (`SHARED_HUB_NODE_FLAGS`).
setFlagsFromString('--optimize-for-size');
await import('./route.js');
