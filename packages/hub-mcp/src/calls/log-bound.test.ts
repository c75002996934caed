import { manualClock } from '@mcp-beacon/test-utils';
import { describe, expect, it } from 'vitest';
import { createLogBound, LOGS_PER_SECOND } from './log-bound.js';

describe('createLogBound', () => {
  it('passes the bound each second, and reports what it held back once that second ends', async () => {
    const clock = manualClock();
    const reports: number[] = [];
    const bound = createLogBound(clock, (count) => reports.push(count));
    const admitted = (n: number) => Array.from({ length: n }, () => bound.admit()).filter(Boolean);
    expect(admitted(LOGS_PER_SECOND + 150)).toHaveLength(LOGS_PER_SECOND);
    expect(reports).toEqual([]);
    await clock.advance(999);
    expect(reports).toEqual([]);
    await clock.advance(1);
    expect(reports).toEqual([150]);
    // A new second passes the bound again; a quiet one reports nothing.
    expect(admitted(LOGS_PER_SECOND)).toHaveLength(LOGS_PER_SECOND);
    await clock.advance(5_000);
    expect(reports).toEqual([150]);
    expect(clock.pending()).toBe(0);
  });
});
