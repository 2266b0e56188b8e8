/**
 * Why the step service does not use Powertools' idempotency utility (the probe the
 * decision rests on): it works on dynalite, but its record is a second item whose
 * COMPLETED write cannot be atomic with the episode's commit, so a failure between the two
 * executes the step twice.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from '../storage/helpers';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
  await runtime.clients.dynamodb.send(
    new CreateTableCommand({
      TableName: 'idempotency',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
});
afterAll(async () => {
  await runtime?.close();
});

/** Fails the COMPLETED write once, as a throttled or timed-out UpdateItem would. */
class FlakyPersistence extends DynamoDBPersistenceLayer {
  failNextUpdate = false;
  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    if (this.failNextUpdate) {
      this.failNextUpdate = false;
      throw new Error('UpdateItem timed out');
    }
    return super._updateRecord(record);
  }
}

function idempotentStep(persistence: DynamoDBPersistenceLayer, commits: string[]) {
  const config = new IdempotencyConfig({ eventKeyJmesPath: '[episode, request_id]', payloadValidationJmesPath: 'call', expiresAfterSeconds: 3600 });
  // A Lambda context, so that INPROGRESS records get a (short) lock expiry.
  config.registerLambdaContext({ getRemainingTimeInMillis: () => 60_000 } as never);
  return makeIdempotent(
    async (event: { episode: string; request_id: string; call: string }) => {
      commits.push(event.call); // stands for the episode's conditional commit
      return { committed: commits.length };
    },
    { persistenceStore: persistence, config },
  );
}

describe('Powertools idempotency on dynalite (probe)', () => {
  it('works there: a repeated key returns the stored result, another payload is refused', async () => {
    const commits: string[] = [];
    const step = idempotentStep(new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: runtime.clients.dynamodb }), commits);
    const event = { episode: 'ep-1', request_id: 'r-1', call: 'run_epochs' };
    expect(await step(event)).toEqual({ committed: 1 });
    expect(await step(event)).toEqual({ committed: 1 });
    await expect(step({ ...event, call: 'submit_model' })).rejects.toMatchObject({ name: 'IdempotencyValidationError' });
    expect(commits).toEqual(['run_epochs']);
  });

  it('but a failure between the commit and its COMPLETED record executes the step twice', async () => {
    const commits: string[] = [];
    const persistence = new FlakyPersistence({ tableName: 'idempotency', awsSdkV3Client: runtime.clients.dynamodb });
    const step = idempotentStep(persistence, commits);
    const event = { episode: 'ep-2', request_id: 'r-1', call: 'run_epochs' };
    persistence.failNextUpdate = true;
    await expect(step(event)).rejects.toMatchObject({ name: 'IdempotencyPersistenceLayerError' });
    // The retry is locked out while the INPROGRESS lock lasts...
    await expect(step(event)).rejects.toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    // ...and once the lock has expired (the invocation's remaining time), runs the step again:
    // two commits for one request.
    const now = Date.now();
    const later = jest.spyOn(Date, 'now').mockImplementation(() => now + 61_000);
    try {
      expect(await step(event)).toEqual({ committed: 2 });
    } finally {
      later.mockRestore();
    }
    expect(commits).toEqual(['run_epochs', 'run_epochs']);
  });
});
