import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A Node child process speaking JSON lines: `send()` writes one, `next()` resolves to the next
 * one it prints. A line `{ error }` rejects. Used by the cross-process and lease suites.
 */
export class JsonChild {
  readonly proc: ChildProcess;
  private readonly inbox: unknown[] = [];
  private readonly pending: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited?: string;

  constructor(script: string, args: string[]) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.push(JSON.parse(line)));
    this.proc.on('exit', (code, signal) => {
      this.exited = `exited (code ${code}, signal ${signal}) ${this.stderr.slice(-2000)}`;
      for (const p of this.pending.splice(0)) p.reject(new Error(this.exited));
    });
  }

  send(msg: unknown): void {
    this.proc.stdin!.write(`${JSON.stringify(msg)}\n`);
  }

  next<T = Record<string, unknown>>(): Promise<T> {
    const m = this.inbox.shift();
    if (m !== undefined) return Promise.resolve(m as T);
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) =>
      this.pending.push({ resolve: resolve as (m: unknown) => void, reject }),
    );
  }

  /** Resolves when the process has exited (killing it first when `signal` is given). */
  stop(signal?: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      if (signal) this.proc.kill(signal);
      else this.proc.stdin!.end();
    });
  }

  private push(msg: unknown): void {
    const err = (msg as { error?: string }).error;
    const p = this.pending.shift();
    if (err) {
      if (p) p.reject(new Error(err));
      else this.inbox.push(Promise.reject(new Error(err)));
      return;
    }
    if (p) p.resolve(msg);
    else this.inbox.push(msg);
  }
}
