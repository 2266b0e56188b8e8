import { engines } from '../../package.json';
import { AWS_SDK_NODE_WARNING_ENV, nodeAdvice, supportedNodeLines } from '../../cli/node-advice';

describe('Node advice', () => {
  it("reads the supported lines from package.json's engines", () => {
    expect(supportedNodeLines('^22 || ^24')).toEqual([22, 24]);
    expect(supportedNodeLines()).toEqual(supportedNodeLines(engines.node));
  });

  it("on an unsupported Node: one line, and the AWS SDK's own warning off for this process and its children", () => {
    const env: NodeJS.ProcessEnv = {};
    const advice = nodeAdvice('v20.20.2', env);
    expect(advice).toMatch(/^note: Node v20\.20\.2 is unsupported \(use 22 or 24\); npm start fetches Node 22\n$/);
    expect(advice!.trimEnd().split('\n')).toHaveLength(1);
    expect(nodeAdvice('v18.20.10', {})!.trimEnd().length).toBeLessThanOrEqual(80);
    expect(env[AWS_SDK_NODE_WARNING_ENV]).toBe('true');
    // A child process inherits the environment: it says nothing more.
    expect(nodeAdvice('v20.20.2', { ...env })).toBeNull();
  });

  it('on a supported Node: nothing, and the SDK keeps its own say', () => {
    for (const version of ['v22.23.5', 'v24.22.3']) {
      const env: NodeJS.ProcessEnv = {};
      expect(nodeAdvice(version, env)).toBeNull();
      expect(env).toEqual({});
    }
  });
});
