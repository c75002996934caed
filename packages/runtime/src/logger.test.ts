import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel } from './logger.js';

describe('createLogger', () => {
  it('writes lines at or above its level, with time and level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line) => lines.push(line) });
    logger.debug('no');
    logger.info('no');
    logger.warn('yes');
    logger.error('also');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z warn {2}yes\n$/);
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });

  it('escapes control characters of untrusted text, keeping line breaks', () => {
    const lines: string[] = [];
    createLogger('info', { write: (line) => lines.push(line) }).info(
      'name \x1b]0;t\x07x\x1b[2J\nstack',
    );
    expect(lines[0]).toMatch(/ info {2}name x\nstack\n$/);
  });
});

describe('createLogger with repeatMs', () => {
  it('writes a repeated line once per period, then says how many were held back', () => {
    const lines: string[] = [];
    let t = 0;
    const logger = createLogger('debug', {
      write: (line) => lines.push(line),
      repeatMs: 60_000,
      now: () => t,
    });
    for (let i = 0; i < 12; i++) {
      logger.warn('heartbeat failed: ENOSPC');
      logger.debug('retrying');
      t += 5_000;
    }
    logger.warn('another failure');
    // t = 60 s: the period of the first line has passed.
    logger.warn('heartbeat failed: ENOSPC');
    logger.error('heartbeat failed: ENOSPC'); // another level is another line
    const warns = lines.filter((l) => l.includes('heartbeat failed'));
    expect(warns).toHaveLength(3);
    expect(warns[0]).toMatch(/warn {2}heartbeat failed: ENOSPC\n$/);
    expect(warns[1]).toMatch(
      /warn {2}heartbeat failed: ENOSPC \(11 more like it held back in the last 60 s\)\n$/,
    );
    expect(warns[2]).toMatch(/error heartbeat failed: ENOSPC\n$/);
    expect(lines.filter((l) => l.includes('another failure'))).toHaveLength(1);
    // Debug lines are never held back.
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(12);
  });

  it('remembers a bounded number of distinct lines', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', {
      write: (line) => lines.push(line),
      repeatMs: 60_000,
      now: () => 0,
    });
    logger.warn('first');
    for (let i = 0; i < 300; i++) logger.warn(`rejected request with Host "h${i}"`);
    // 'first' was forgotten (256 distinct lines remembered), so it is written again.
    logger.warn('first');
    expect(lines.filter((l) => l.endsWith('first\n'))).toHaveLength(2);
    expect(lines).toHaveLength(302);
  });

  it('holds nothing back without repeatMs', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line) => lines.push(line) });
    for (let i = 0; i < 3; i++) logger.warn('same');
    expect(lines).toHaveLength(3);
  });
});
