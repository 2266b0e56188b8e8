import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLIENT_SCRIPT, UPLOT_CSS } from '../../layers/reports/generated/assets';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

describe('generated report assets', () => {
  it('are up to date with layers/reports/client and uPlot (node layers/reports/build-assets.mjs)', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'layers/reports/build-assets.mjs'), '--check'], { cwd: root });
    expect(stdout).toContain('up to date');
  });

  it('can be inlined: no closing tag, no network reference', () => {
    for (const text of [CLIENT_SCRIPT, UPLOT_CSS]) {
      expect(text).not.toMatch(/<\/script|<\/style|<!--/i);
      expect(text).not.toMatch(/https?:\/\//i);
    }
    expect(CLIENT_SCRIPT).toContain('MIT License, Copyright (c) 2022 Leon Sorokin');
  });
});
