// beacon-instance's options, in one table per mode: each drives both the parsing and the help.
import { type OptionTable, optionsHelp } from '@mcp-beacon/runtime';
import { VERSION } from './instance.js';

/** Options both modes take. */
const COMMON = {
  'exit-with-stdin': {
    type: 'boolean',
    help: 'exit when stdin closes (for supervisors that hold a pipe)',
  },
  'log-level': {
    type: 'string',
    arg: 'LEVEL',
    help: 'silent, error, warn, info (default) or debug; logs go to stderr',
  },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies OptionTable;

/** Options of `beacon-instance`. */
const INSTANCE_OPTIONS = {
  port: {
    type: 'string',
    arg: 'N',
    help: 'port to listen on (default 0: any free port)',
    int: { min: 0, max: 65535 },
  },
  name: {
    type: 'string',
    arg: 'NAME',
    help: 'instance name (default: package.json name, else the folder name)',
  },
  cwd: { type: 'string', arg: 'DIR', help: 'project directory (default: the current directory)' },
  'no-register': { type: 'boolean', help: 'do not write the discovery record' },
  'no-auth': {
    type: 'boolean',
    help: 'do not require the per-start bearer token (trusted setups only)',
  },
  'max-runs': {
    type: 'string',
    arg: 'N',
    help: 'script runs kept, newest first (default 20)',
    int: { min: 1, max: 10_000 },
  },
  'log-budget-mb': {
    type: 'string',
    arg: 'N',
    help: 'log memory kept across runs, in MiB (default 64)',
    int: { min: 1, max: 65_536 },
  },
  'grace-ms': {
    type: 'string',
    arg: 'N',
    help: 'SIGTERM -> SIGKILL grace period of a stopped script (default 3000)',
    int: { min: 0, max: 600_000 },
  },
  'session-idle-ms': {
    type: 'string',
    arg: 'N',
    help: 'end an MCP session after N ms without a request (default 600000)',
    int: { min: 100, max: 86_400_000 },
  },
  'max-sessions': {
    type: 'string',
    arg: 'N',
    help: 'concurrent MCP sessions; more get HTTP 503 (default 100)',
    int: { min: 1, max: 100_000 },
  },
  ...COMMON,
  version: { type: 'boolean', short: 'v', help: 'show the version' },
} as const satisfies OptionTable;

/** Options of `beacon-instance announce`. */
const ANNOUNCE_OPTIONS = {
  url: {
    type: 'string',
    arg: 'URL',
    help: 'the MCP server (streamable HTTP on a loopback address); required',
  },
  name: {
    type: 'string',
    arg: 'NAME',
    help: "name shown by the hub (default: the --path folder's name)",
  },
  path: {
    type: 'string',
    arg: 'DIR',
    help: 'project path to record (default: the current directory)',
  },
  'token-file': {
    type: 'string',
    arg: 'FILE',
    help: 'file holding the bearer token the server requires (also: the\nMCP_BEACON_TOKEN environment variable)',
  },
  token: {
    type: 'string',
    arg: 'T',
    help: 'the same on the command line (visible to other users: avoid)',
  },
  interval: {
    type: 'string',
    arg: 'MS',
    help: 'ping period over the kept MCP session (default 5000)',
    int: { min: 100, max: 3_600_000 },
  },
  ...COMMON,
} as const satisfies OptionTable;

/** Every option of both modes: what the command line is parsed against. */
export const OPTIONS = { ...INSTANCE_OPTIONS, ...ANNOUNCE_OPTIONS };

export const HELP = `beacon-instance ${VERSION}
Serves this project's scripts and logs as an MCP server on 127.0.0.1 and announces it
to the Beacon hub.

Usage:
  beacon-instance [options]
  beacon-instance announce --url http://127.0.0.1:PORT/mcp [options] [-- command [args...]]

Options:
${optionsHelp(INSTANCE_OPTIONS)}
Run beacon-instance announce --help for the options of announce.

Data lives in $MCP_BEACON_HOME, else the OS's per-user data folder (mcp-beacon).
`;

export const ANNOUNCE_HELP = `beacon-instance announce ${VERSION}
Announces an MCP server that is not a beacon-instance to the Beacon hub, and withdraws it
when it stops answering (or, with --, when the server it started exits).

Usage:
  beacon-instance announce --url http://127.0.0.1:PORT/mcp [options] [-- command [args...]]

Options:
${optionsHelp(ANNOUNCE_OPTIONS)}  -- command [args]     start the server first, announce it once it answers MCP, and
                        withdraw the record when it exits (its pid goes in the record)

The record is written only after an MCP initialize succeeds, and withdrawn as soon as a ping
fails or the session is lost.
`;

/** The flags of one mode that the other refuses by name. */
const onlyIn = (mine: OptionTable, theirs: OptionTable) =>
  Object.keys(mine).filter((flag) => !(flag in theirs));
export const INSTANCE_ONLY = onlyIn(INSTANCE_OPTIONS, ANNOUNCE_OPTIONS);
export const ANNOUNCE_ONLY = onlyIn(ANNOUNCE_OPTIONS, INSTANCE_OPTIONS);
