#!/usr/bin/env node

// The command line itself is in _main.ts. V8's --optimize-for-size was tried here (bench/README.md,
// instance memory): it saved ~5 MB once a client had a session and nothing while idle, but slowed
// the busy path (errors_get's scan against another session's call), so it is not set.
await import('./_main.js');
