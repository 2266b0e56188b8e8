#!/usr/bin/env node
'use strict';
// Built by `npm install` (the package's prepare script) from cli/main.ts.
require('../dist/cli.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`ml-trainer: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
