import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SCRIPT = pathToFileURL(join(__dirname, '..', '..', 'scripts', 'tensorflow-load-notice.mjs')).href;

// libtensorflow 2.21's two lines, as a test run's log carried them (timestamp and pid vary).
const NOTICE = [
  'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
  'I0000 00:00:1796212063.777286   21084 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.',
];

/** The filter is an ES module and jest runs CommonJS here: feed `chunks` through it in a child Node. */
function filtered(chunks: string[]): { out: string; dropped: number } {
  const source = `import { tensorFlowNoticeFilter } from ${JSON.stringify(SCRIPT)};
    const f = tensorFlowNoticeFilter(); let out = '';
    f.on('data', (d) => (out += d)).on('end', () => process.stdout.write(JSON.stringify({ out, dropped: f.dropped() })));
    for (const c of ${JSON.stringify(chunks)}) f.write(c);
    f.end();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout);
}

describe("npm test's filter of TensorFlow's load notice", () => {
  it('drops exactly the two notice lines, whole, however the chunks split them', () => {
    const log = `PASS a.test.ts\n${NOTICE.join('\n')}\nPASS b.test.ts\n${NOTICE.join('\n')}\nTests: 2 passed`;
    const split = [log.slice(0, 30), log.slice(30, 200), log.slice(200)];
    expect(filtered(split)).toEqual({ out: 'PASS a.test.ts\nPASS b.test.ts\nTests: 2 passed', dropped: 4 });
  });

  it('keeps every other line, TensorFlow warnings and look-alikes included', () => {
    const kept = [
      'W0000 00:00:1.0   1 cpu_feature_guard.cc:1] a real warning',
      'I0000 00:00:1.0   1 port.cc:153] oneDNN custom operations are on. and something else',
      `  ${NOTICE[0]}`,
      'FAIL c.test.ts',
    ].join('\n');
    expect(filtered([`${kept}\n`])).toEqual({ out: `${kept}\n`, dropped: 0 });
  });
});
