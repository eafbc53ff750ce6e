import type { ErrorCode } from '@cistern/errors';
import type { z } from 'zod';
import type { TaskContext } from './task-context.ts';

/** Something a task that completed wants its reader to know, e.g. `NOTHING_MIRRORED`. */
export interface TaskWarning {
  code: ErrorCode;
  message: string;
}

/** What a handler hands back when its task completes. */
export interface TaskResult {
  /** hrefs of what the task made, e.g. the new repository version. */
  createdResources?: string[];
  warnings?: TaskWarning[];
  /** The task's outcome in figures, e.g. what an orphan cleanup removed; shown as the task's `result`. */
  result?: Record<string, string | number | boolean | null | string[]>;
}

/**
 * A kind of task: the name its rows carry in `Task.kind` and the zod schema of
 * its params. The package that runs a kind defines it; this package lists none.
 */
export interface TaskKind<Name extends string = string, Params extends z.ZodType = z.ZodType> {
  readonly name: Name;
  readonly params: Params;
  /**
   * Whether its params may say `dryRun: true` (a run that only plans): the
   * task metrics count those under `kind="<name>-dry-run"`, apart from the runs that do the work.
   */
  readonly dryRuns?: boolean;
}

/** The params a task of kind `K` runs with: its schema's output. */
export type TaskParams<K extends TaskKind> = z.output<K['params']>;

/** The params of the kind named `N` among the kinds `K`. */
export type TaskParamsOf<K extends TaskKind, N extends K['name']> = TaskParams<Extract<K, { readonly name: N }>>;

/** Runs one task; its context carries the params, already checked against the kind's schema. */
export type TaskHandler<Params> = (ctx: TaskContext<Params>) => Promise<TaskResult | undefined>;

/** A kind bound to the handler that runs it: what a task worker is given, one per kind. */
export interface TaskRunner<Params extends z.ZodType = z.ZodType> {
  readonly kind: TaskKind<string, Params>;
  /**
   * Runs one task. The worker calls it only with params its kind's schema
   * accepted; declared as a method so runners of every kind fit one list.
   */
  run(ctx: TaskContext<z.output<Params>>): Promise<TaskResult | undefined>;
}

/**
 * A kind with the factory of its handler: what a package exports for each kind
 * it owns. `Deps` is what the handler needs from the process (database,
 * storage, ...): the worker binds each definition to them once, at start.
 */
export interface TaskDefinition<Name extends string = string, Params extends z.ZodType = z.ZodType, Deps = never> extends TaskKind<Name, Params> {
  /** The handler built from `deps`, bound to this kind. */
  bind(deps: Deps): TaskRunner<Params>;
}

/**
 * Declares a task kind owned by the calling package: its name, the schema of
 * its params (which shapes API request bodies too) and its handler factory.
 */
export function defineTask<const Name extends string, Params extends z.ZodType, Deps>(definition: {
  name: Name;
  params: Params;
  /** See TaskKind's `dryRuns`. */
  dryRuns?: boolean;
  handler: (deps: Deps) => TaskHandler<z.output<Params>>;
}): TaskDefinition<Name, Params, Deps> {
  const { handler, ...kind } = definition;
  return { ...kind, bind: (deps) => ({ kind, run: handler(deps) }) };
}
