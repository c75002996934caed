import { describe, expect, it } from 'vitest';
import { type OptionTable, optionsHelp, parseCommandLine } from './command-line.js';
import { RuntimeError } from './errors.js';

const TABLE = {
  port: { type: 'string', arg: 'N', help: 'port to listen on', int: { min: 0, max: 65535 } },
  timeout: { type: 'string', arg: 'MS', help: 'how long\nand why', int: { min: 1, unit: 'ms' } },
  remote: { type: 'string', multiple: true, arg: 'NAME=COMMAND', help: 'a remote' },
  json: { type: 'boolean', help: 'print JSON' },
  'http-client': { type: 'string', help: '' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies OptionTable;

describe('parseCommandLine', () => {
  it('parses strings, repeated strings, booleans, whole numbers and positionals', () => {
    const { values, positionals } = parseCommandLine(TABLE, [
      'list',
      '--port',
      '0',
      '--timeout=250',
      '--remote',
      'a=ssh a',
      '--remote',
      'b=ssh b',
      '--json',
      '-h',
    ]);
    expect(values).toEqual({
      port: 0,
      timeout: 250,
      remote: ['a=ssh a', 'b=ssh b'],
      json: true,
      help: true,
    });
    expect(positionals).toEqual(['list']);
  });

  it.each([
    [['--port', '65536'], '--port must be an integer from 0 to 65535, got "65536"'],
    [['--port', '1.5'], '--port must be an integer from 0 to 65535, got "1.5"'],
    [['--timeout', '0'], '--timeout must be an integer of at least 1 (ms), got "0"'],
    [['--timeout', ' '], '--timeout must be an integer of at least 1 (ms), got " "'],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseCommandLine(TABLE, args)).toThrow(message);
  });

  it('refuses an unknown option and a missing argument as USAGE', () => {
    for (const args of [['--nope'], ['--port']]) {
      let error: unknown;
      try {
        parseCommandLine(TABLE, args);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('USAGE');
    }
  });

  it('takes an option that the help does not list', () => {
    expect(parseCommandLine(TABLE, ['--http-client', 'node']).values['http-client']).toBe('node');
  });
});

describe('optionsHelp', () => {
  it('lists every documented option, aligned, with continuation lines under the first', () => {
    expect(optionsHelp(TABLE)).toBe(
      [
        '  --port N              port to listen on',
        '  --timeout MS          how long',
        '                        and why',
        '  --remote NAME=COMMAND a remote',
        '  --json                print JSON',
        '  -h, --help            show this help',
        '',
      ].join('\n'),
    );
  });
});
