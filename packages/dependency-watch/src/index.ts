export { DependencyWatch, type DependencyWatchOptions, type WatchedConnection, type WatchedService } from './dependency-watch.ts';
