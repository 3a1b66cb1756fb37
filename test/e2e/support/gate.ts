import { Injectable } from '@nestjs/common';

/**
 * Holds handlers until the test opens it, and tells the test how many are inside, so tests
 * synchronise on events instead of sleeping.
 */
@Injectable()
export class Gate {
  entered = 0;
  /** Handlers that went through after the gate opened. */
  left = 0;
  private release!: () => void;
  private opened = new Promise<void>((resolve) => (this.release = resolve));
  private watchers: { count: number; resolve: () => void }[] = [];

  /** Called by a handler: counts it in, then waits until the gate opens. */
  async pass(): Promise<void> {
    this.entered++;
    for (const watcher of this.watchers.filter((w) => w.count <= this.entered)) watcher.resolve();
    this.watchers = this.watchers.filter((w) => w.count > this.entered);
    await this.opened;
    this.left++;
  }

  /** Lets every waiting and future handler through. */
  open(): void {
    this.release();
  }

  /** Resolves once `count` handlers have entered. */
  whenEntered(count: number): Promise<void> {
    if (this.entered >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }
}
