import { randomUUID } from 'node:crypto';
import type {
  ConnectionInfo,
  ConnectionState,
  TransitionEvent,
} from '@mcp-beacon/connection-manager';
import { createLogger } from '@mcp-beacon/runtime';
import { describe, expect, it } from 'vitest';
import { createTransitionLog } from './transition-log.js';

function event(
  id: string,
  name: string,
  from: ConnectionState,
  to: ConnectionState,
  reason: string,
): TransitionEvent {
  return { id, from, to, reason, info: { id, record: { name } } as unknown as ConnectionInfo };
}

describe('transition log', () => {
  it('keeps 100 unreachable instances under 5 KB of stderr a minute after the first', () => {
    const out: { minute: number; line: string }[] = [];
    let minute = 0;
    const logger = createLogger('warn', { write: (line) => out.push({ minute, line }) });
    const log = createTransitionLog(logger, { summaryMs: 0 });
    const ids = Array.from({ length: 100 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      log.record(event(id, `ghost${i}`, 'discovered', 'discovered', 'record found'));
      log.record(event(id, `ghost${i}`, 'discovered', 'connecting', 'connecting'));
      log.record(event(id, `ghost${i}`, 'connecting', 'retrying', 'connect ECONNREFUSED'));
    }
    // Five minutes of retries (one every ~2 s each), giving up after the first minute.
    for (minute = 0; minute < 5; minute++) {
      for (let round = 0; round < 30; round++) {
        for (const [i, id] of ids.entries()) {
          const to = minute === 0 ? 'retrying' : 'dead';
          log.record(event(id, `ghost${i}`, 'retrying', 'connecting', 'connecting'));
          log.record(
            event(
              id,
              `ghost${i}`,
              'connecting',
              to,
              `unreachable for ${minute * 60 + round * 2} s: connect ECONNREFUSED`,
            ),
          );
        }
      }
      log.summarize();
    }
    const bytes = (m: number) =>
      out.filter((o) => o.minute === m).reduce((n, o) => n + o.line.length, 0);
    for (let m = 1; m < 5; m++) expect(bytes(m)).toBeLessThan(5 * 1024);
    // The first failure of every instance was said once, at warn.
    expect(out.filter((o) => o.line.includes('-> retrying'))).toHaveLength(100);
    // Each period has exactly one summary line, naming how many keep failing.
    const summaries = out.filter((o) => o.line.includes('still failing'));
    expect(summaries).toHaveLength(5);
    expect(summaries[0]!.line).toContain('100 instance(s) still failing');
    expect(summaries[0]!.line).toContain('and 95 more');
    log.close();
  });

  it('says recovery at info and forgets the failure', () => {
    const lines: string[] = [];
    const log = createTransitionLog(createLogger('info', { write: (l) => lines.push(l) }), {
      summaryMs: 0,
    });
    const id = randomUUID();
    log.record(event(id, 'web', 'active', 'retrying', 'connection closed'));
    log.record(event(id, 'web', 'retrying', 'retrying', 'ECONNREFUSED'));
    log.record(event(id, 'web', 'retrying', 'active', 'connected'));
    log.record(event(id, 'web', 'active', 'retrying', 'connection closed'));
    expect(lines.map((l) => l.slice(25).trim())).toEqual([
      expect.stringMatching(/^warn\s+web .*active -> retrying/),
      expect.stringMatching(/^info\s+web .*retrying -> active .*recovered/),
      expect.stringMatching(/^warn\s+web .*active -> retrying/),
    ]);
    log.summarize();
    expect(lines).toHaveLength(3);
    log.close();
  });

  it('names a new instance once, and a disconnect on request at info, not as a failure', () => {
    const lines: string[] = [];
    const log = createTransitionLog(createLogger('debug', { write: (l) => lines.push(l) }), {
      summaryMs: 0,
    });
    const id = randomUUID();
    log.record(event(id, 'web', 'discovered', 'discovered', 'record found'));
    log.record(event(id, 'web', 'active', 'disconnected', 'disconnected on request'));
    expect(lines.map((l) => l.slice(25).trim())).toEqual([
      expect.stringMatching(/^debug\s+web \(\w+\): discovered \(record found\)$/),
      expect.stringMatching(/^info\s+web .*active -> disconnected/),
    ]);
    log.close();
  });
});
