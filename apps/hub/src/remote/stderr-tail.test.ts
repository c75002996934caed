import { describe, expect, it } from 'vitest';
import { STDERR_KEEP, StderrTail } from './stderr-tail.js';

const utf16 = (text: string) => Buffer.from(text, 'utf16le');
const said = (...chunks: Buffer[]) => {
  const tail = new StderrTail();
  for (const chunk of chunks) tail.add(chunk);
  return tail.explain('the command exited (code 1)');
};

// What wsl.exe prints on its own behalf is UTF-16LE, whatever the console's code page.
const NO_DISTRO =
  'Windows Subsystem for Linux has no installed distributions.\r\nUse \u2018wsl.exe --list --online\u2019 to list available distributions.\r\n';

describe('StderrTail', () => {
  it('reads UTF-16LE with a byte-order mark as text', () => {
    expect(said(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16(NO_DISTRO)]))).toBe(
      'the command exited (code 1); its last stderr line: Use \u2018wsl.exe --list --online\u2019 to list available distributions.',
    );
  });

  it('reads UTF-16LE without a mark from its NUL-interleaved bytes, across odd chunk splits', () => {
    const bytes = utf16('Der Vorgang wurde erfolgreich beendet, aber: Zugriff verweigert\r\n');
    expect(said(bytes.subarray(0, 7), bytes.subarray(7, 30), bytes.subarray(30))).toBe(
      'the command exited (code 1); its last stderr line: Der Vorgang wurde erfolgreich beendet, aber: Zugriff verweigert',
    );
  });

  it('keeps UTF-8 as it was, a character split across chunks too', () => {
    const bytes = Buffer.from('bash: beacon-hub: command not found \u2014 \u00e9t\u00e9\n');
    expect(said(bytes.subarray(0, 38), bytes.subarray(38))).toBe(
      'the command exited (code 1); its last stderr line: bash: beacon-hub: command not found \u2014 \u00e9t\u00e9',
    );
  });

  it('reads a UTF-16 line from wsl.exe after UTF-8 from the Linux side', () => {
    expect(
      said(
        Buffer.from('bash: line 1: beacon-hub: command not found\n'),
        utf16('The operation timed out.\r\n'),
      ),
    ).toBe('the command exited (code 1); its last stderr line: The operation timed out.');
  });

  it('still says a password prompt is one, in either encoding', () => {
    expect(said(utf16("devbox's password: "))).toMatch(/asks for a password/);
    expect(said(Buffer.from('Permission denied (publickey).\n'))).toMatch(
      /asks for a password.*Permission denied \(publickey\)\./,
    );
  });

  it('keeps a bounded tail', () => {
    const tail = new StderrTail();
    for (let i = 0; i < 1_000; i++) tail.add(utf16(`line ${i} ${'x'.repeat(50)}\r\n`));
    expect(tail.explain('ended')).toMatch(/last stderr line: line 999 x+$/);
    expect(tail.kept()).toBeLessThanOrEqual(STDERR_KEEP);
  });
});
