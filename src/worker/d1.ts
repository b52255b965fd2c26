import type { D1Database } from '@cloudflare/workers-types/index.js';
import { D1Dialect } from 'kysely-d1';
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  Kysely,
  sql,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type SchemaMetadata,
  type TableMetadata,
  type Dialect,
  type Driver,
  type KyselyConfig,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type TransactionBuilder,
  type UnknownRow,
} from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Trx } from '../../db/repositories/db-types.js';
import type { TransactionBatcher } from '../../db/tx-batcher.js';
import type { LogScope } from './log-scope.js';

/**
 * D1 through kysely-d1. D1 runs every statement in its own implicit
 * transaction and has no interactive transactions (no BEGIN over several
 * round trips; kysely-d1 throws on `db.transaction()`). What the service
 * does instead, from the most to the least atomic:
 *
 * - `runD1Batch`: units that only write (an accepted report: case, contact,
 *   photos, events, outbox, idempotency key) are recorded as compiled
 *   statements and sent with `D1Database.batch()`, which D1 commits
 *   atomically: all or nothing.
 * - `createD1UnitRunner`: the intake processor's unit (classify → route →
 *   record), which reads only rows it does not write and decides from one
 *   conditional UPDATE: one batch too, with a guard after each UPDATE.
 * - `connectD1`: the workflow's other `db.transaction().execute(fn)` (staff
 *   actions, deadline marks, delivery results) read what they wrote, so
 *   they run with their statements committed one by one. Each starts with
 *   reads and its guarded status change (a conditional UPDATE that fails
 *   when someone else moved the case or assignment), then appends rows. What
 *   D1 cannot give them is the rollback of the rows written before a later
 *   failure; such a failure is logged with the number of statements that
 *   stayed, the error, and the request or job it happened in.
 */

export function connectD1(d1: D1Database, scope: LogScope): Kysely<Database> {
  return new D1Kysely({ dialect: new D1AutocommitDialect(d1) }, scope);
}

/**
 * Kysely on D1, whose units of work (`db.transaction().execute(fn)`) log a
 * failure that came after some of their statements were committed: with the
 * error's message and the current request's or job's logger (reqId; queue,
 * jobId, caseId), so that an operator can find the half-changed case.
 */
class D1Kysely extends Kysely<Database> {
  readonly #scope: LogScope;

  constructor(config: KyselyConfig, scope: LogScope) {
    super(config);
    this.#scope = scope;
  }

  // Only the builder's execute is watched: the service sets no isolation level or access mode (D1 has neither).
  override transaction(): TransactionBuilder<Database> {
    const builder = super.transaction();
    const execute = builder.execute.bind(builder);
    const scope = this.#scope;
    builder.execute = <T>(unit: (trx: Transaction<Database>) => Promise<T>): Promise<T> =>
      execute(async (trx) => {
        const counter = new WriteCounter();
        try {
          return await unit(trx.withPlugin(counter));
        } catch (err) {
          if (counter.writes > 0) {
            scope.logger().error(
              { writes: counter.writes, err: err instanceof Error ? err.message : String(err) },
              'D1: a unit of work failed after some of its statements were committed (D1 has no rollback across statements)',
            );
          }
          throw err;
        }
      });
    return builder;
  }
}

/** Counts the statements other than SELECTs that ran to completion: on D1 each is committed at once. */
class WriteCounter implements KyselyPlugin {
  writes = 0;
  readonly #isWrite = new WeakMap<QueryId, boolean>();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#isWrite.set(args.queryId, args.node.kind !== 'SelectQueryNode');
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#isWrite.get(args.queryId)) this.writes += 1;
    return args.result;
  }
}

/** SQLite's adapter, saying how many parameters D1 binds to one statement: multi-row inserts are sliced within it. */
class D1Adapter extends SqliteAdapter {
  readonly maxParameters = 100;
}

class D1AutocommitDialect extends D1Dialect {
  constructor(d1: D1Database) {
    super({ database: d1 });
  }

  override createAdapter(): D1Adapter {
    return new D1Adapter();
  }

  override createDriver(): Driver {
    return new AutocommitDriver(super.createDriver());
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new D1Introspector(db);
  }
}

/**
 * Kysely's SQLite introspector reads the columns of every table, and D1
 * refuses access to its own `_cf_*` tables (SQLITE_AUTH), which broke the
 * Migrator's check for its tables. The same metadata, without those.
 */
class D1Introspector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    return [];
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    let q = this.db
      .selectFrom('sqlite_master')
      .where('type', 'in', ['table', 'view'])
      .where('name', 'not like', 'sqlite_%')
      .where(sql<boolean>`substr(name, 1, 4) != '_cf_'`)
      .select(['name', 'type']);
    if (!options.withInternalKyselyTables) {
      q = q.where('name', '!=', DEFAULT_MIGRATION_TABLE).where('name', '!=', DEFAULT_MIGRATION_LOCK_TABLE);
    }
    const tables = (await q.orderBy('name').execute()) as Array<{ name: string; type: string }>;
    const out: TableMetadata[] = [];
    for (const t of tables) {
      const { rows } = await sql<{ name: string; type: string; notnull: number; dflt_value: unknown; pk: number }>`select name, type, "notnull", dflt_value, pk from pragma_table_info(${t.name})`.execute(this.db);
      out.push({
        name: t.name,
        isView: t.type === 'view',
        columns: rows.map((c) => ({
          name: c.name,
          dataType: c.type,
          isNullable: !c.notnull,
          isAutoIncrementing: c.pk > 0 && c.type.toLowerCase() === 'integer',
          hasDefaultValue: c.dflt_value != null,
        })),
      });
    }
    return out;
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** Transactions are accepted and run statement by statement, each committed by D1 (see D1Kysely for failures). */
class AutocommitDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new AutocommitConnection(await this.inner.acquireConnection());
  }

  async beginTransaction(): Promise<void> {}

  async commitTransaction(): Promise<void> {}

  async rollbackTransaction(): Promise<void> {}

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as AutocommitConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class AutocommitConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(query);
    // kysely-d1 also sets the field Kysely renamed (numUpdatedOrDeletedRows), which makes Kysely warn.
    return { rows: result.rows, numAffectedRows: result.numAffectedRows, insertId: result.insertId };
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * The intake processor's unit of work on D1, atomic: its reads run at once
 * (they see committed rows, and the unit reads nothing it wrote), its writes
 * are recorded and sent as one D1 batch. The unit decides from its first,
 * conditional UPDATE (received → dispatched) whether to go on, so each
 * UPDATE is presumed to change its row and is followed in the batch by a
 * guard that aborts the whole batch when it changed none: a case another
 * worker moved meanwhile leaves nothing behind, and the job's retry finds it
 * moved and skips it.
 */
export function createD1UnitRunner(d1: D1Database): TransactionBatcher {
  return {
    async run<T>(unit: (trx: Trx) => Promise<T>): Promise<T> {
      const recorded: CompiledQuery[] = [];
      const live = new D1Dialect({ database: d1 }).createDriver();
      const db = new Kysely<Database>({ dialect: recordingDialect(recorded, await live.acquireConnection()) });
      const result = await db.transaction().execute(unit);
      if (recorded.length > 0) {
        const statements = recorded.flatMap((q) => {
          const statement = d1.prepare(q.sql).bind(...(q.parameters as unknown[]));
          return q.query.kind === 'UpdateQueryNode' ? [statement, d1.prepare(GUARD_SQL)] : [statement];
        });
        try {
          await d1.batch(statements);
        } catch (err) {
          if (String((err as Error).message).includes('malformed JSON')) {
            throw new Error('D1: a conditional update of this unit of work matched no row (changed meanwhile); nothing was written');
          }
          throw err;
        }
      }
      return result;
    },
  };
}

/** Fails (and so rolls back the batch) when the statement before it changed no row. */
const GUARD_SQL = "SELECT CASE WHEN changes() = 0 THEN json('guard: no row changed') END";

/**
 * Runs a write-only unit of work against a recorder and commits what it
 * wrote in one D1 batch (atomic). Reads inside the unit would see nothing:
 * only units that write without reading belong here.
 */
export async function runD1Batch(d1: D1Database, unit: (trx: Trx) => Promise<void>): Promise<number> {
  const recorded = await recordWrites(unit);
  if (recorded.length === 0) return 0;
  await d1.batch(recorded.map((q) => d1.prepare(q.sql).bind(...(q.parameters as unknown[]))));
  return recorded.length;
}

/** The statements a write-only unit of work would run, compiled for SQLite/D1, in order. */
export async function recordWrites(unit: (trx: Trx) => Promise<void>): Promise<CompiledQuery[]> {
  const recorded: CompiledQuery[] = [];
  const recorder = new Kysely<Database>({ dialect: recordingDialect(recorded) });
  await recorder.transaction().execute(unit);
  return recorded;
}

/**
 * Records every write instead of running it; reads go to `reads` when
 * given, else fail. A recorded UPDATE or DELETE reports one changed row.
 */
function recordingDialect(into: CompiledQuery[], reads?: DatabaseConnection): Dialect {
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      if (query.query.kind === 'SelectQueryNode') {
        if (!reads) throw new Error('a batched D1 unit of work cannot read');
        return reads.executeQuery<R>(query);
      }
      into.push(query);
      return { rows: [], numAffectedRows: BigInt(1) };
    },
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('not supported');
    },
  };
  return singleConnectionDialect(connection);
}

/** D1's dialect over one connection that has no transactions of its own (they are batches elsewhere). */
export function singleConnectionDialect(connection: DatabaseConnection): Dialect {
  return {
    createAdapter: () => new D1Adapter(),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createDriver: () => ({
      init: async () => {},
      acquireConnection: async () => connection,
      beginTransaction: async () => {},
      commitTransaction: async () => {},
      rollbackTransaction: async () => {},
      releaseConnection: async () => {},
      destroy: async () => {},
    }),
  };
}
