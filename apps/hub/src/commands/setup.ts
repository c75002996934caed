// `beacon-hub setup CLIENT [--write] [--start-roots]`.
import { homedir } from 'node:os';
import { type BeaconPaths, resolvePaths } from '@mcp-beacon/paths';
import { SETUP_CLIENTS, type SetupClient, setupText, writeSetup } from '../setup.js';

/** Prints (or, with `write`, writes) how `client` launches this hub, whose entry is `cli`. */
export async function runSetup(
  words: readonly string[],
  values: { write?: boolean; 'start-roots'?: boolean },
  paths: BeaconPaths,
  cli: string,
): Promise<void> {
  const client = words[0];
  if (!SETUP_CLIENTS.includes(client as SetupClient) || words.length > 1) {
    process.stderr.write(
      `beacon-hub: setup needs one client: ${SETUP_CLIENTS.join(', ')}; got ${JSON.stringify(words.join(' '))}\n`,
    );
    process.exit(2);
  }
  const home = homedir();
  // The folder a hub launched with nothing but HOME would use: clients pass on little of the
  // shell's environment (Codex not even XDG_DATA_HOME), so any other folder is pinned.
  const fallback = resolvePaths({ env: {}, platform: process.platform, homedir: home }).root;
  const launch = {
    node: process.execPath,
    cli,
    dataDir: paths.root === fallback ? undefined : paths.root,
    flags: values['start-roots'] ? ['--start-roots'] : [],
  };
  const env = {
    home,
    platform: process.platform,
    appData: process.env.APPDATA,
    codexHome: process.env.CODEX_HOME,
    geminiHome: process.env.GEMINI_CLI_HOME,
  };
  if (!values.write)
    return void process.stdout.write(setupText(client as SetupClient, launch, env));
  try {
    const { file, backup, note } = await writeSetup(client as SetupClient, launch, env);
    process.stdout.write(
      `Added beacon to ${file}${backup ? ` (previous version kept in ${backup})` : ''}; restart ${client} to load it.\n${note ? `${note}\n` : ''}`,
    );
  } catch (error) {
    process.stderr.write(`beacon-hub: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
