#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// beacon-instance idles in every project a developer has open, so memory matters more than
// peak speed: V8's size-over-speed heuristics keep a smaller heap (bench/instance-memory.mjs).
// Set before anything else is loaded.
setFlagsFromString('--optimize-for-size');
await import('./_main.js');
