import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AppCommand, AppReply, AppVariant, HttpAdapterName } from './app-variant';

/** Generous: ten apps boot at once, on a machine that may be busy. */
const BOOT_TIMEOUT_MS = 120_000;

/** A benchmarked application running in its own child process. */
export class AppProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Forks `app.js` and resolves once it listens. */
  static start(adapter: HttpAdapterName, variant: AppVariant): Promise<AppProcess> {
    // execArgv [] : the app runs without the runner's flags (--expose-gc, profilers).
    const child = fork(join(__dirname, 'app.js'), [adapter, variant], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${adapter}/${variant} app did not start within ${BOOT_TIMEOUT_MS} ms`));
      }, BOOT_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${adapter}/${variant} app exited with code ${code} before listening`));
      });
      child.on('message', (reply: AppReply) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(new AppProcess(child, reply.port));
        } else if (reply.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${adapter}/${variant} app failed: ${reply.message}`));
        }
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Runs `fn` and resolves to its value and the CPU time (µs) the app spent meanwhile. */
  async withCpu<T>(fn: () => Promise<T>): Promise<{ value: T; cpuMicros: number }> {
    this.command({ type: 'cpu-start' });
    const value = await fn();
    const cpu = new Promise<number>((resolve) => {
      const onReply = (reply: AppReply): void => {
        if (reply.type !== 'cpu') return;
        this.child.off('message', onReply);
        resolve(reply.micros);
      };
      this.child.on('message', onReply);
    });
    this.command({ type: 'cpu-stop' });
    return { value, cpuMicros: await cpu };
  }

  /** Asks the app to close, and kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.command({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private command(command: AppCommand): void {
    this.child.send(command);
  }
}
