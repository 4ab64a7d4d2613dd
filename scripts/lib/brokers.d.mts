/** A TCP port of 127.0.0.1 nobody listens on now (never 6379 or 4222). */
export function freePort(): Promise<number>;
/**
 * Resolves true once something accepts connections on `port` of 127.0.0.1; false after `ms`,
 * or as soon as `alive()` says the process that should listen has ended.
 */
export function listening(port: number, options?: { ms?: number; alive?: () => boolean }): Promise<boolean>;
/**
 * The command line of a broker on `port`, keeping its files in `dir`: redis-server with nothing
 * saved, or nats-server with JetStream stored in `dir`.
 */
export function brokerCommand(
  kind: 'redis' | 'nats',
  port: number,
  dir: string,
): [command: string, args: string[]];
