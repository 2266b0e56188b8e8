import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../../layers/core/src';
import { Observability } from '../../layers/cloud/src/powertools';

/** One Logger interface: Powertools' Logger and console satisfy it without a wrapper. */

describe('Logger', () => {
  it('is satisfied by Powertools and console as they are', () => {
    const loggers: Logger[] = [new PowertoolsLogger({ serviceName: 'test', logLevel: 'SILENT' }), console];
    expect(loggers).toHaveLength(2);
  });

  it("passes details (or none) through to the handlers' Powertools logger", () => {
    const obs = new Observability('test');
    const warn = jest.spyOn(obs.logger, 'warn').mockImplementation(() => undefined);
    const log: Logger = obs.logger;
    log.warn('quota read failed', { tenant: 't' });
    log.warn('no details');
    expect(warn.mock.calls).toEqual([['quota read failed', { tenant: 't' }], ['no details']]);
  });
});
