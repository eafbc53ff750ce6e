import type { Logger } from 'pino';

export type Closer = () => Promise<void>;

/**
 * Runs a process's start-up. A start-up failure prints one line naming the
 * cause and exits non-zero; SIGTERM/SIGINT run the closers (in reverse order of
 * start) within `shutdownTimeoutMs`, and a second signal exits at once.
 */
export async function runMain(name: string, start: () => Promise<{ logger: Logger; closers: Closer[]; shutdownTimeoutMs: number }>): Promise<void> {
  // A signal while starting (a health check may already answer) is honoured once started, not left to kill the
  // process halfway; a second one exits at once, as it does later.
  let early: NodeJS.Signals | undefined;
  const keep = (signal: NodeJS.Signals) => {
    if (early) process.exit(1);
    early = signal;
  };
  process.on('SIGTERM', keep);
  process.on('SIGINT', keep);
  let started: Awaited<ReturnType<typeof start>>;
  try {
    started = await start();
  } catch (error) {
    console.error(`cistern ${name}: ${(error as Error).message}`);
    process.exit(1);
  }
  process.off('SIGTERM', keep);
  process.off('SIGINT', keep);
  const { logger, closers, shutdownTimeoutMs } = started;
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, shutdownTimeoutMs + 5000);
    deadline.unref();
    for (const close of [...closers].reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void stop(s));
  process.on('SIGINT', (s) => void stop(s));
  if (early) void stop(early);
}
