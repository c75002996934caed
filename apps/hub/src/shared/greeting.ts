// What a hub answered to `initialize`, kept beside its socket: a bridge that has it answers its
// client's `initialize` at once, before the hub is reached (or started), and passes the request
// on; the hub's own answer, when it comes, is not relayed again. Every field comes from an
// earlier answer of a hub of this endpoint, so of this very version and settings. Node's own
// modules only: the bridge loads it.

import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Largest greeting file read, in bytes. */
const MAX_GREETING_BYTES = 64 * 1024;

/** The hub's answer to `initialize`, by the protocol version the client asked for. */
export interface Greeting {
  version: string;
  /** The protocol version the hub answered, by the one the client asked for. */
  answers: Record<string, string>;
  /** The rest of its result (capabilities, serverInfo, instructions). */
  result: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The greeting kept at `file` for a hub of `version`, or undefined when there is none. */
export function readGreeting(file: string, version: string): Greeting | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_GREETING_BYTES) return undefined;
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || value.version !== version) return undefined;
    const { answers, result } = value;
    if (!isRecord(answers) || !isRecord(result)) return undefined;
    if (!Object.values(answers).every((v) => typeof v === 'string')) return undefined;
    return { version, answers: answers as Record<string, string>, result };
  } catch {
    return undefined;
  }
}

/** Keeps `greeting` at `file` (written aside, then renamed into place, 0600); never throws. */
export function writeGreeting(file: string, greeting: Greeting): void {
  const aside = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, JSON.stringify(greeting), { mode: 0o600 });
    renameSync(aside, file);
  } catch {
    // Without it the next bridge waits for the hub's own answer, as the first one did.
  }
}

/**
 * The answer to an `initialize` asking for `requested`, from `greeting`; undefined when the
 * hub has not been asked for that version before.
 */
export function answerFrom(
  greeting: Greeting | undefined,
  requested: unknown,
): Record<string, unknown> | undefined {
  if (!greeting || typeof requested !== 'string') return undefined;
  const protocolVersion = Object.hasOwn(greeting.answers, requested)
    ? greeting.answers[requested]
    : undefined;
  return typeof protocolVersion === 'string' ? { ...greeting.result, protocolVersion } : undefined;
}
