import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePktLines, decodePktResponse, encodePktLines, PKT_DELIM, PKT_END, PKT_FLUSH } from './pkt-line.ts';
import { listRefsOverHttp, parseLsRefs, parseV0Advertisement } from './smart-http.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test('pkt-lines round-trip, with the lengths git writes', () => {
  const encoded = encodePktLines(['command=ls-refs', PKT_DELIM, 'peel', PKT_FLUSH]);
  assert.equal(encoded.toString(), '0014command=ls-refs\n00010009peel\n0000');
  assert.deepEqual(decodePktLines(Buffer.concat([encoded, Buffer.from('0002')])), [
    'command=ls-refs',
    PKT_DELIM,
    'peel',
    PKT_FLUSH,
    PKT_END,
  ]);
});

test('a malformed or truncated pkt-line ends the parse; what came before is kept', () => {
  assert.deepEqual(decodePktLines(Buffer.from('0009peel\nzzzzjunk')), ['peel']);
  assert.deepEqual(decodePktLines(Buffer.from('0009peel\n00ffshort')), ['peel']);
  assert.deepEqual(decodePktLines(Buffer.from('0003')), []);
});

test('a response is whole only when every byte is framed and it ends with a flush', () => {
  assert.equal(decodePktResponse(encodePktLines(['peel', PKT_FLUSH])).complete, true);
  assert.equal(decodePktResponse(Buffer.from('0009peel\n0002')).complete, true);
  assert.equal(decodePktResponse(Buffer.from('0009peel\n')).complete, false, 'no flush: cut short');
  assert.equal(decodePktResponse(Buffer.from('0009peel\n0000zz')).complete, false, 'bytes after the flush');
  assert.equal(decodePktResponse(Buffer.from('\u0000\u00ffzz garbage', 'latin1')).complete, false);
  assert.equal(decodePktResponse(Buffer.alloc(0)).complete, false);
});

test('a server answering non-Git bytes in Git content types fails the listing (transient), not "branch not found"', async (t) => {
  const garbage = Buffer.from('\u0000\u00ffzz\u0013garbage, not pkt-lines\n', 'latin1');
  for (const phase of ['discovery', 'ls-refs'] as const) {
    const server = createServer((req, res) => {
      const discovery = req.method === 'GET';
      res.writeHead(200, { 'content-type': `application/x-git-upload-pack-${discovery ? 'advertisement' : 'result'}` });
      if (discovery && phase === 'ls-refs') res.end(encodePktLines(['version 2', 'ls-refs', 'fetch=shallow', PKT_FLUSH]));
      else res.end(garbage);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${phase}.git`;
    await assert.rejects(
      listRefsOverHttp(url, undefined, { prefixes: ['refs/heads/main'] }),
      (err: Error & { code?: string; kind?: string }) => {
        assert.equal(err.code, 'GitCommandFailed', phase);
        assert.equal(err.kind, 'transient', phase);
        assert.match(err.message, /is not Git's protocol or was cut short/);
        return true;
      },
    );
  }
});

test('ls-refs (protocol v2): refs, peeled tags and the HEAD symref', () => {
  const refs = parseLsRefs([
    `${A} HEAD symref-target:refs/heads/main`,
    `${A} refs/heads/main`,
    `${B} refs/tags/v1.0.0 peeled:${C}`,
    'not a ref line',
    PKT_FLUSH,
    `${C} refs/heads/after-flush`,
  ]);
  assert.equal(refs.headTarget, 'refs/heads/main');
  assert.deepEqual(
    [...refs.refs],
    [
      ['HEAD', A],
      ['refs/heads/main', A],
      ['refs/tags/v1.0.0', B],
    ],
  );
  assert.deepEqual([...refs.peeled], [['refs/tags/v1.0.0', C]]);
});

test('a protocol v0 advertisement: capabilities after NUL on the first line, ^{} lines peeled', () => {
  const refs = parseV0Advertisement([
    `${A} HEAD\0multi_ack symref=HEAD:refs/heads/trunk agent=git/2.39`,
    `${A} refs/heads/trunk`,
    `${B} refs/tags/v2`,
    `${C} refs/tags/v2^{}`,
  ]);
  assert.equal(refs.headTarget, 'refs/heads/trunk');
  assert.equal(refs.refs.get('refs/tags/v2'), B);
  assert.equal(refs.peeled.get('refs/tags/v2'), C);
  assert.equal(refs.refs.get('HEAD'), A);
});

test('an empty repository advertises only capabilities^{}, which is no ref', () => {
  const refs = parseV0Advertisement([`${'0'.repeat(40)} capabilities^{}\0agent=git/2.39`]);
  assert.equal(refs.refs.size, 0);
  assert.equal(refs.peeled.size, 0);
});
