// The two lines libtensorflow 2.21 (what tools/tfjs-node-mirror builds on these machines) writes to
// stderr in every process that loads it, before any log level applies (TF_CPP_MIN_LOG_LEVEL does
// not reach absl's pre-initialisation logging; only TF_ENABLE_ONEDNN_OPTS=0 removes them, and that
// changes the kernels and so the numbers). A test run loads TensorFlow in a dozen processes, so
// the log carried the same two lines a dozen times. Off a terminal, npm test drops exactly these
// lines from what it passes on, and says so once per step.
import { Transform } from 'node:stream';

const NOTICE_LINES = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\. .*TF_ENABLE_ONEDNN_OPTS=0`\.$/,
];

export function isTensorFlowLoadNotice(line) {
  return NOTICE_LINES.some((pattern) => pattern.test(line));
}

/** Passes whole lines on, except the notice's; `dropped()` counts the lines left out (for tests). */
export function tensorFlowNoticeFilter() {
  let pending = '';
  let dropped = 0;
  const kept = (lines) => {
    let out = '';
    for (const line of lines) {
      if (isTensorFlowLoadNotice(line)) dropped += 1;
      else out += `${line}\n`;
    }
    return out;
  };
  const stream = new Transform({
    transform(chunk, _encoding, done) {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      const out = kept(lines);
      if (out !== '') this.push(out);
      done();
    },
    flush(done) {
      if (pending !== '') this.push(kept([pending]).replace(/\n$/, ''));
      done();
    },
  });
  return Object.assign(stream, { dropped: () => dropped });
}
