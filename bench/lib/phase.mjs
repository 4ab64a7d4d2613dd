// @ts-check
/**
 * Child side: what a child process measures of itself over one phase (`begin`/`arm`/`run` …
 * `end`/`report`): its CPU time (user + system), and on request a V8 CPU profile of the phase
 * written as a .cpuprofile file (open it in Chrome DevTools or speedscope).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export class PhaseCpu {
  constructor() {
    /** @type {NodeJS.CpuUsage | null} */
    this.cpu0 = null;
    /** @type {{ session: Session, file: string } | null} */
    this.profiling = null;
  }

  /** Starts a V8 CPU profile to be written to `file` (unless one runs already). @param {string} file */
  async startProfile(file) {
    if (this.profiling) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    // Every 100 µs (V8 samples each 1 ms by default: too coarse for a phase of a second or two).
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    this.profiling = { session, file };
  }

  /** Starts the CPU count. */
  startCount() {
    this.cpu0 = process.cpuUsage();
  }

  /** CPU time (user + system, µs) since `startCount`. */
  cpuUs() {
    const cpu = process.cpuUsage(this.cpu0 ?? undefined);
    return cpu.user + cpu.system;
  }

  /** Stops the profile, if one runs, and writes its file. */
  async stopProfile() {
    if (!this.profiling) return;
    const { session, file } = this.profiling;
    this.profiling = null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
  }
}
