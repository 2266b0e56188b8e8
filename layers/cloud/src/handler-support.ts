import type { Storage } from '../../storage/src';
import type { Observability } from './powertools';
import { cloudItems, type CloudItems } from './table-items';

/** The cloud's items in the storage's table, with the storage's retention. */
export function itemsOf(storage: Pick<Storage, 'clients' | 'config'>, clock?: () => Date): CloudItems {
  return cloudItems({
    documents: storage.clients.documents,
    tableName: storage.config.tableName,
    retentionSeconds: storage.config.retentionSeconds,
    ...(clock ? { clock } : {}),
  });
}

/** Adds X-Ray capture to the storage's SDK clients (no-op outside Lambda). */
export function traceStorage(storage: Pick<Storage, 'clients'>, obs: Observability): void {
  obs.captureClient(storage.clients.dynamodb);
  obs.captureClient(storage.clients.s3);
}
