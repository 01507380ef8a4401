#!/usr/bin/env node
// Totals jest's --json result files into the one plain line CI reads, always last:
//   N passed, N failed, N skipped
// A suite that failed to run at all (compile error, failing hook) counts as one failure, so a
// broken file can never look green. Exits non-zero when anything failed or nothing ran.
// With `--fabric <file>` (what `cli.ts find-fabric` printed), a run that skipped tests because no
// Fabric binaries were found says so, and how to get them, on the line before the total.
const { existsSync, readFileSync } = require('node:fs');

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const fabricNote = option('--fabric');
// `--checks <file>`: one line per failed check that is not a test (lint, format), each a failure.
const checksFile = option('--checks');

let passed = 0;
let failed = 0;
let skipped = 0;
if (checksFile !== undefined && existsSync(checksFile)) {
  for (const line of readFileSync(checksFile, 'utf8').split('\n').filter(Boolean)) {
    console.error(`test-summary: check failed: ${line}`);
    failed += 1;
  }
}
for (const file of args) {
  let result;
  try {
    result = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`test-summary: no readable results in ${file} (${err.message})`);
    failed += 1;
    continue;
  }
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
  for (const suite of result.testResults) {
    const ran = suite.assertionResults.some((a) => a.status === 'failed');
    if (suite.status === 'failed' && !ran) {
      console.error(`test-summary: suite failed to run: ${suite.name}`);
      failed += 1;
    }
  }
  if (result.numRuntimeErrorTestSuites > 0 && result.testResults.length === 0)
    failed += result.numRuntimeErrorTestSuites;
}
if (skipped > 0 && fabricNote !== undefined && existsSync(fabricNote)) {
  const note = readFileSync(fabricNote, 'utf8').trim();
  if (note.startsWith('Fabric: ')) console.log(`skipped: the tests on real Fabric peers, because ${note}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
