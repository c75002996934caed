// A remote's command as a child process: run in a session of its own (so nothing it runs can
// read the hub's terminal), its stderr's end kept to say why it failed (UTF-8, or wsl.exe's
// UTF-16LE), stopped by signalling its whole process group.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { type Clock, signalGroup, sleep } from '@mcp-beacon/runtime';
import { StderrTail } from './stderr-tail.js';

/** Longest wait for a command's stderr to end after it exited, in ms. */
const STDERR_DRAIN_MS = 1_000;

/** One run of a remote's command. */
export class RemoteCommand {
  /** Resolves with why the command ended, once its stderr was read to its end (1 s at most). */
  readonly ended: Promise<string>;
  /** Resolves the moment the command exited (or could not run). */
  readonly exited: Promise<void>;
  private readonly stderr = new StderrTail();
  private exitReason: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    file: string,
    clock: Clock,
  ) {
    let markExited: () => void = () => undefined;
    this.exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    // The reason is built once stderr is read to its end ('close'), so its last line
    // (`Permission denied (publickey).`) is in it; a grandchild holding stderr open gets 1 s.
    const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.ended = new Promise<string>((resolve) => {
      child.once('error', (error) => {
        this.exitReason ??= `cannot run ${file}: ${error.message}`;
        markExited();
        resolve(this.explain(this.exitReason));
      });
      child.once('exit', (code, signal) => {
        this.exitReason ??= `the command exited (${signal ?? `code ${code}`})`;
        markExited();
        const why = this.exitReason;
        void Promise.race([drained, sleep(clock, STDERR_DRAIN_MS)]).then(() =>
          resolve(this.explain(why)),
        );
      });
    });
    // Bytes, not text: wsl.exe writes its own errors in UTF-16LE (the tail tells them apart).
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.add(chunk));
    child.stdin?.on('error', () => undefined);
  }

  /**
   * Runs `command` (program and arguments, no shell) in a new session and process group.
   * @returns the run, or why it could not start.
   */
  static run(command: readonly string[], clock: Clock): RemoteCommand | { error: string } {
    const [file, ...args] = command as [string, ...string[]];
    try {
      const child = spawn(file, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        windowsHide: true,
      });
      return new RemoteCommand(child, file, clock);
    } catch (error) {
      return { error: `cannot run ${file}: ${(error as Error).message}` };
    }
  }

  get stdout(): Readable {
    return this.child.stdout!;
  }

  get stdin(): Writable {
    return this.child.stdin!;
  }

  /** Whether the command has exited (or could not run). */
  get hasExited(): boolean {
    return this.exitReason !== undefined;
  }

  /** `reason`, with what the command last said on stderr. */
  explain(reason: string): string {
    return this.stderr.explain(reason);
  }

  /**
   * Ends the command: SIGTERM to its process group, SIGKILL `killAfterMs` later.
   * @returns a promise that resolves once it has exited.
   */
  stop(killAfterMs: number, clock: Clock): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    signalGroup(child.pid, 'SIGTERM');
    const killer = clock.setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killAfterMs);
    return new Promise<void>((resolve) =>
      child.once('exit', () => {
        clock.clearTimeout(killer);
        resolve();
      }),
    );
  }
}
