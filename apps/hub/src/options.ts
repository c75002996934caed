// beacon-hub's options: one table drives both their parsing and the help.
import { type OptionTable, optionsHelp } from '@mcp-beacon/runtime';
import { VERSION } from './version.js';

/** Every option of beacon-hub (the `remote` subcommand parses its own words). */
export const HUB_OPTIONS = {
  'log-level': {
    type: 'string',
    arg: 'LEVEL',
    help: 'silent, error, warn (default), info or debug; logs go to stderr',
  },
  'call-timeout': {
    type: 'string',
    arg: 'MS',
    help: 'per-call timeout for proxied requests (default 60000)',
    int: { min: 1, unit: 'ms' },
  },
  'ping-interval': {
    type: 'string',
    arg: 'MS',
    help: 'health-check period (default 5000)',
    int: { min: 1, unit: 'ms' },
  },
  'ping-timeout': {
    type: 'string',
    arg: 'MS',
    help: 'a ping unanswered this long is a miss (default 2000)',
    int: { min: 1, unit: 'ms' },
  },
  'first-list-timeout': {
    type: 'string',
    arg: 'MS',
    help: 'how long the first tools/list may wait for the instances\npresent at start-up to connect (default 2000; 0 = no wait)',
    int: { min: 0, unit: 'ms' },
  },
  tools: {
    type: 'string',
    arg: 'MODE',
    help: "grouped (default): each instance tool definition listed once,\nwith an `instance` argument; namespaced: every instance's tools\nas <instance>__<tool>",
  },
  'max-name-length': {
    type: 'string',
    arg: 'N',
    help: 'longest tool and prompt name listed (default 48, at least 24)',
    int: { min: 24, unit: 'characters' },
  },
  'max-tools': {
    type: 'string',
    arg: 'N',
    help: 'list at most N tools (hub tools first); the rest stay callable\nthrough instances_call and are found with instances_tools',
    int: { min: 10 },
  },
  'start-roots': {
    type: 'boolean',
    help: 'start beacon-instance in every root the client reports (at start\nand when its roots change) that holds a package.json and has no\nlive instance; started instances keep running after the hub exits',
  },
  'instance-bin': {
    type: 'string',
    arg: 'PATH',
    help: 'the beacon-instance that instances_start and --start-roots run\n(default: the one installed next to this hub, else PATH)',
  },
  'start-timeout': {
    type: 'string',
    arg: 'MS',
    help: 'how long a start may take to become active (default 20000)',
    int: { min: 1, unit: 'ms' },
  },
  remote: {
    type: 'string',
    multiple: true,
    arg: 'NAME=COMMAND',
    help: "also show the hub COMMAND runs (e.g. devbox='ssh devbox beacon-hub'),\nfor this run only; repeatable; kept remotes are added to it",
  },
  'no-remotes': { type: 'boolean', help: 'do not start the kept remotes' },
  'remote-timeout': {
    type: 'string',
    arg: 'MS',
    help: "how long a remote's command may take to answer as a hub (default\n20000), and each of its health pings (at most 10000, every MS\nup to 15000); one that does not is unreachable, and retried",
    int: { min: 1, unit: 'ms' },
  },
  standalone: {
    type: 'boolean',
    help: "serve this client from a hub of its own, in this process, rather\nthrough the user's shared hub (containers, CI, one-shot use)",
  },
  'idle-exit': {
    type: 'string',
    arg: 'MS',
    help: 'how long the shared hub stays after its last client leaves\n(default 300000)',
    int: { min: 0, unit: 'ms' },
  },
  json: { type: 'boolean', help: 'with list and status: print JSON' },
  write: { type: 'boolean', help: '' },
  watch: { type: 'boolean', help: '' },
  /** Accepted (and ignored) so that configurations written for older hubs keep starting. */
  'http-client': { type: 'string', help: '' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  version: { type: 'boolean', short: 'v', help: 'show the version' },
} as const satisfies OptionTable;

/** `beacon-hub --help`. */
export const HELP = `beacon-hub ${VERSION}
One MCP server (stdio) for every running Beacon instance: discovers them, health-checks
them, and offers instances_list plus every instance tool, listed once per definition with an
\`instance\` argument naming the project.

Usage:
  beacon-hub [options]          serve MCP on stdin/stdout (what MCP clients launch): a bridge
                                to the user's shared hub, started when none runs; with
                                --standalone, a hub of its own in this process
  beacon-hub status [--json]    show the shared hubs running: version, uptime, memory, and
                                each client session (client, protocol era, folder, since)
  beacon-hub daemon [options]   run the shared hub in the foreground (bridges start it)
  beacon-hub list [--json]      print the instances found and exit
  beacon-hub list --watch       connect to them and show every change as it happens (a table
                                redrawn in place on a terminal, one line per change
                                otherwise); Ctrl-C exits
  beacon-hub remote add NAME -- COMMAND [ARGS...] | remote list | remote remove NAME
                                keep the other machines (dev boxes, containers, WSL) whose
                                hubs this one shows, each reached by COMMAND (ssh devbox
                                beacon-hub); see beacon-hub remote --help
  beacon-hub setup CLIENT [--write] [--start-roots]
                                print how to add this hub to CLIENT (claude-code,
                                claude-desktop, codex, cursor, gemini or vscode): its add
                                command, the entry for its config file, or both; --write
                                edits that file (backup kept); --start-roots launches the
                                hub with that flag

Options:
${optionsHelp(HUB_OPTIONS)}
Data lives in $MCP_BEACON_HOME, else the OS's per-user data folder (mcp-beacon).
`;
