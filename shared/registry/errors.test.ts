import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeExcerpt } from './errors.ts';

describe('safeExcerpt', () => {
  it('flattens HTML and control characters and truncates', () => {
    const html = '<html>\n<head><title>502 Bad Gateway</title></head>\r\n<body>\u0000<h1>502 Bad Gateway</h1></body></html>';
    assert.equal(safeExcerpt(html), '502 Bad Gateway 502 Bad Gateway');
    assert.equal(safeExcerpt('x'.repeat(10) + ' ' + 'y '.repeat(200), 20).length, 21);
  });
  it('masks long opaque runs such as tokens', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const out = safeExcerpt(`{"token":"${token}"}`);
    assert.doesNotMatch(out, /eyJhbGci/);
    assert.match(out, /\[…\]/);
  });
});
