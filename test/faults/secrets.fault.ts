import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import { installCrds } from '../harness/tidemark.ts';
import { recordRow } from './report.ts';
import { runSecretScan } from './secrets-faults.ts';

/** `npm run faults`: known secrets through every path, successful and failing; none in any output. */
describe('secrets in every output', () => {
  it('no log line, status, Event, commit, metric or CLI output holds a known secret', async (t) => {
    const cluster = await testCluster();
    await installCrds(cluster);
    const result = await runSecretScan(cluster);
    for (const reason of result.skipped) t.diagnostic(`left out: ${reason}`);
    t.diagnostic(`${result.searchedFor.length} values: ${result.searchedFor.join(', ')}`);
    t.diagnostic(`searched: ${result.sources.map((s) => `${s.source} (${s.bytes} B)`).join(', ')}`);
    recordRow(result.row);
    assert.deepEqual(result.hits, [], 'no output holds a known secret, whole or in part');
  });
});
