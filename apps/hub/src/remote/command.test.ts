import { systemClock } from '@mcp-beacon/runtime';
import { testNode } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { RemoteCommand } from './command.js';

describe('RemoteCommand', () => {
  it("says why a command ended in its stderr's words, UTF-16LE (as wsl.exe writes) included", async () => {
    // A stand-in for wsl.exe: its own errors are UTF-16LE, with no byte-order mark.
    const script = `process.stderr.write(Buffer.from('There is no distribution with the supplied name.\\r\\nError code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND\\r\\n', 'utf16le'), () => process.exit(1));`;
    const run = RemoteCommand.run([testNode, '-e', script], systemClock);
    if ('error' in run) throw new Error(run.error);
    expect(await run.ended).toBe(
      'the command exited (code 1); its last stderr line: Error code: Wsl/Service/WSL_E_DISTRO_NOT_FOUND',
    );
  });
});
