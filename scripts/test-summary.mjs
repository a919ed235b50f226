#!/usr/bin/env node
// Adds up the vitest JSON reports of every workspace package (written by each run into
// `<package>/test-results/*.json`) and prints one closing line for CI: "N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const totals = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const resultsDir = join(root, group, name, 'test-results');
    if (!existsSync(resultsDir)) continue;
    for (const file of readdirSync(resultsDir).filter((entry) => entry.endsWith('.json'))) {
      const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
      const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      totals.passed += report.numPassedTests;
      totals.failed += report.numFailedTests;
      totals.skipped += skipped;
      rows.push(
        `${`${group}/${name}/${file}`.padEnd(44)} ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
      );
    }
  }
}
console.log(rows.join('\n'));
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
