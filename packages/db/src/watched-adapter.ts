import type { WatchedConnection } from '@cistern/dependency-watch';
import {
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';

/** What the pg adapter reports when it never reached the server, or lost it. */
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);

/** SQLSTATE classes and codes of a server going away: connection exceptions, shutting down, starting up. */
const UNREACHABLE_STATES = /^(08...|57P0[123])$/;

/**
 * Whether a failed statement says PostgreSQL could not be reached, as opposed
 * to the server answering with an error. The adapter maps the server's errors
 * (they carry a SQLSTATE) and socket errors to kinds; what it passes through
 * unmapped is pg's own "the connection ended" (no code at all).
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof DriverAdapterError)) return true;
  const cause = error.cause;
  if (UNREACHABLE_KINDS.has(cause.kind)) return true;
  return cause.kind === 'postgres' && UNREACHABLE_STATES.test(cause.code);
}

/** The statement's outcome reported to the connection: lost if it could not reach the server, up if it got an answer. */
async function reported<T>(connection: WatchedConnection, statement: Promise<T>): Promise<T> {
  try {
    const result = await statement;
    connection.up();
    return result;
  } catch (error) {
    if (isDatabaseUnreachable(error)) connection.down(error);
    else connection.up();
    throw error;
  }
}

/** The adapter with every statement's outcome reported; statements inside a transaction run on a connection it already reported. */
class WatchedAdapter implements SqlDriverAdapter {
  readonly provider: SqlDriverAdapter['provider'];
  readonly adapterName: string;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly connection: WatchedConnection,
  ) {
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return reported(this.connection, this.inner.queryRaw(query));
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return reported(this.connection, this.inner.executeRaw(query));
  }

  executeScript(script: string): Promise<void> {
    return reported(this.connection, this.inner.executeScript(script));
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return reported(this.connection, this.inner.startTransaction(isolationLevel));
  }

  getConnectionInfo(): ConnectionInfo {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }

  dispose(): Promise<void> {
    this.connection.forget();
    return this.inner.dispose();
  }
}

/**
 * A driver adapter factory whose adapters report each statement to
 * `connection` (the process's PostgreSQL watch): an outage becomes one
 * "unreachable" and one "back" line, not one error per query.
 */
export function watchedAdapter(factory: SqlDriverAdapterFactory, connection: WatchedConnection): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => new WatchedAdapter(await factory.connect(), connection),
  };
}
