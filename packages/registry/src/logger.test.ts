import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel } from './logger.js';

describe('createLogger', () => {
  it('writes lines at or above its level, with time and level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', (line) => lines.push(line));
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
    createLogger('info', (line) => lines.push(line)).info('name \x1b]0;t\x07x\x1b[2J\nstack');
    expect(lines[0]).toMatch(/ info {2}name x\nstack\n$/);
  });
});
