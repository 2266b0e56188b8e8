/*
 * The local server as `ml-trainer serve` runs it (the stored service over DynamoDB and S3,
 * here the embedded ones the parent started, and the formula trainer), in its own process so
 * that the hostile suite can see it die. Prints {"port"} on its first stdout line.
 */
import { StoredEpisodeService } from '../../layers/episodes/src';
import { createServer } from '../../layers/server/src';
import { createStorage, type StorageConfig } from '../../layers/storage/src';
import { formulaTrainerFactory } from '../../layers/testing/src';

async function main(): Promise<void> {
  const config = JSON.parse(process.env.HOSTILE_STORAGE_CONFIG ?? '') as StorageConfig;
  const storage = createStorage(config);
  const quiet = { warn: () => undefined, error: () => undefined };
  const service = new StoredEpisodeService({ episodes: storage.episodes, checkpoints: storage.checkpoints, trainers: formulaTrainerFactory, logger: quiet });
  const app = createServer({ service });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
}

main().catch((error) => {
  process.stderr.write(`server-child: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
