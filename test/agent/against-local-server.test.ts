import { baselinePolicy, playEpisode, RestEnvironment } from '../../layers/agent/src';
import { storedServerForSuite } from '../server/harness';

/** The agent's REST client against the real local server (stored service on dynalite + s3rver). */
describe('agents against the local server', () => {
  const server = storedServerForSuite();

  it('the baseline plays a whole episode and is graded', async () => {
    const environment = new RestEnvironment({ url: server.base, tenantId: 'agents' });
    const result = await playEpisode({ environment, policy: baselinePolicy(), taskId: 'easy_mnist' });
    expect(result.grade).not.toBeNull();
    expect(result.grade!.score).toBeGreaterThan(0);
    expect(result.steps).toBeLessThanOrEqual(15);
    expect(result.history).toHaveLength(result.steps);
  });

  it('rejected tool calls (422/409 from the server) come back as steps, not failures', async () => {
    const environment = new RestEnvironment({ url: server.base, tenantId: 'agents' });
    const session = await environment.startEpisode({ taskId: 'medium_fashion' });
    const early = await session.call('run_epochs', { num_epochs: 2 });
    expect(early).toMatchObject({ step: 1, error: { code: 'not_configured' }, done: false });
    const invalid = await session.call('configure_training', { dropout: 3 });
    expect(invalid).toMatchObject({ step: 2, error: { code: 'invalid_arguments', field: 'dropout' } });
    const ok = await session.call('configure_training', {});
    expect(ok).toMatchObject({ step: 3, error: null });
  });
});
