import type { CallToolResult } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import {
  type CallRelay,
  ENVELOPE,
  LEGACY,
  MODERN_REVISION,
  metaEraOf,
  type RequestEra,
  runInstanceCall,
  shapeResult,
} from './era.js';

const envelope = {
  [ENVELOPE.version]: MODERN_REVISION,
  [ENVELOPE.clientInfo]: { name: 'client', version: '1' },
  [ENVELOPE.capabilities]: { elicitation: {} },
};
const ok: CallToolResult = { content: [{ type: 'text', text: 'ok' }] };

/** A relay that records what it was asked to run, and runs it. */
function recordingRelay() {
  const runs: { instance: string; capabilities: unknown }[] = [];
  const relay: CallRelay = {
    run: (instance, start, signal, capabilities) => {
      runs.push({ instance, capabilities });
      return start(signal);
    },
  };
  return { relay, runs };
}

describe('metaEraOf', () => {
  it('reads no envelope as 2025 and a well-formed 2026-07-28 one with its capabilities', () => {
    expect(metaEraOf(undefined)).toBe(LEGACY);
    expect(metaEraOf({ progressToken: 1 })).toBe(LEGACY);
    expect(metaEraOf(envelope)).toEqual({
      kind: 'modern',
      capabilities: { elicitation: {} },
      log: undefined,
      state: undefined,
    });
  });

  it('leaves a claimed envelope it cannot read to the SDK to refuse', () => {
    expect(metaEraOf({ ...envelope, [ENVELOPE.version]: '2099-01-01' })).toBeUndefined();
    expect(metaEraOf({ ...envelope, [ENVELOPE.capabilities]: 'all' })).toBeUndefined();
    expect(metaEraOf({ ...envelope, [ENVELOPE.clientInfo]: null })).toBeUndefined();
  });
});

describe('runInstanceCall', () => {
  it('runs a 2026-07-28 call through the relay with the request’s capabilities, a 2025 one as it is', async () => {
    const { relay, runs } = recordingRelay();
    const signal = new AbortController().signal;
    const modern = metaEraOf(envelope) as RequestEra;
    expect(await runInstanceCall(modern, relay, 'a', async () => ok, signal)).toBe(ok);
    expect(runs).toEqual([{ instance: 'a', capabilities: { elicitation: {} } }]);
    let given: AbortSignal | undefined;
    await runInstanceCall(
      LEGACY,
      relay,
      'b',
      async (s) => {
        given = s;
        return ok;
      },
      signal,
    );
    expect(runs).toHaveLength(1);
    expect(given).toBe(signal);
  });
});

describe('shapeResult', () => {
  it('adds resultType and the hub’s name to a 2026-07-28 result, nothing to a 2025 one', () => {
    const info = { name: 'beacon-hub', version: '9' };
    expect(shapeResult(LEGACY, ok, info)).toBe(ok);
    const shaped = shapeResult(metaEraOf(envelope) as RequestEra, ok, info) as Record<
      string,
      unknown
    >;
    expect(shaped.resultType).toBe('complete');
    expect(Object.values(shaped._meta as object)).toContainEqual(info);
    expect(shaped.content).toEqual(ok.content);
  });
});
