import type { TokenService } from '@cistern/auth';
import type { PrismaClient } from '@cistern/db';
import type { TaskService } from '@cistern/queue';
import type { BlobStore } from '@cistern/storage';
import type { Queue } from 'bullmq';
import { catalogService, type CatalogService } from './catalog/catalog-service.ts';
import { distributionService, type DistributionService } from './distributions/distribution-service.ts';
import { remoteService, type RemoteService } from './remotes/remote-service.ts';
import { repositoryService, type RepositoryService } from './repositories/repository-service.ts';
import { repositoryTaskService, type RepositoryTaskService } from './repositories/repository-tasks.ts';
import { versionService, type VersionService } from './repositories/version-service.ts';
import { scheduleService, type ScheduleService } from './schedules/schedule-service.ts';
import { settingsService, type SettingsService } from './settings/settings-service.ts';
import { storageTaskService, type StorageTaskService } from './storage/storage-tasks.ts';
import type { TaskKinds } from './task-kinds.ts';
import { storageService, type StorageService } from './storage/storage-service.ts';
import { taskQueries, type TaskQueries } from './tasks/task-queries.ts';
import { tokenAdministration, type TokenAdministration } from './tokens/token-administration.ts';

/** What the services are built from, once per process. */
export interface DomainDeps {
  prisma: PrismaClient;
  /** Seals remote passwords at rest. */
  secretKey: Buffer;
  tasks: TaskService<TaskKinds>;
  /** Where schedules' BullMQ job schedulers live. */
  scheduleQueue: Queue;
  tokens: TokenService;
  /** The blob store, for what its temporary area holds. */
  storage: Pick<BlobStore, 'temporaryUsage'>;
}

/** One service per aggregate, plus the read queries of content and tasks. */
export interface DomainServices {
  remotes: RemoteService;
  repositories: RepositoryService;
  repositoryTasks: RepositoryTaskService;
  versions: VersionService;
  distributions: DistributionService;
  schedules: ScheduleService;
  catalog: CatalogService;
  tasks: TaskQueries;
  tokens: TokenAdministration;
  settings: SettingsService;
  storageTasks: StorageTaskService;
  storage: StorageService;
}

/** Every domain service, built once from the same dependencies. */
export function createDomainServices(deps: DomainDeps): DomainServices {
  return {
    remotes: remoteService(deps),
    repositories: repositoryService(deps),
    repositoryTasks: repositoryTaskService(deps),
    versions: versionService(deps),
    distributions: distributionService(deps),
    schedules: scheduleService(deps),
    catalog: catalogService(deps),
    tasks: taskQueries(deps),
    tokens: tokenAdministration(deps),
    settings: settingsService(deps),
    storageTasks: storageTaskService(deps),
    storage: storageService(deps),
  };
}
