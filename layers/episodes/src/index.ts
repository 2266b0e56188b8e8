export * from './episode-service';
export * from './stored-episode-service';
