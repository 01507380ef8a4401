#!/usr/bin/env node
// Totals jest's --json result files into the one plain line CI reads:
//   N passed, N failed, N skipped
// A suite that failed to run at all (compile error, failing hook) counts as one failure, so a
// broken file can never look green. Exits non-zero when anything failed or nothing ran.
const { readFileSync } = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
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
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
