import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { nextLinkTarget, parseLinkHeader, resolveNextPage } from './link.ts';

describe('Link header', () => {
  it('finds the next link among several', () => {
    const header = '</v2/a/tags/list?last=x&n=100>; rel="prev", </v2/a/tags/list?last=y&n=100>; rel="next"';
    assert.equal(nextLinkTarget(header), '/v2/a/tags/list?last=y&n=100');
    assert.equal(parseLinkHeader(header).length, 2);
  });

  it('accepts unquoted and multi-valued rel, and commas inside the URL', () => {
    assert.equal(nextLinkTarget('<https://r/v2/a/tags/list?last=a,b>; rel=next'), 'https://r/v2/a/tags/list?last=a,b');
    assert.equal(nextLinkTarget('</p2>; title="x, y"; rel="last next"'), '/p2');
    assert.equal(nextLinkTarget(['</p1>; rel="prev"', '</p2>; rel="next"']), '/p2');
  });

  it('returns nothing without a next link', () => {
    assert.equal(nextLinkTarget(undefined), undefined);
    assert.equal(nextLinkTarget('</p1>; rel="prev"'), undefined);
    assert.equal(nextLinkTarget('garbage'), undefined);
  });

  it('resolves relative and absolute links on the same origin', () => {
    const current = new URL('https://r.example.com:8443/v2/a/tags/list?n=100');
    assert.equal(resolveNextPage('/v2/a/tags/list?last=x&n=100', current).href, 'https://r.example.com:8443/v2/a/tags/list?last=x&n=100');
    assert.equal(resolveNextPage('?last=y', current).href, 'https://r.example.com:8443/v2/a/tags/list?last=y');
    assert.equal(
      resolveNextPage('https://r.example.com:8443/v2/a/tags/list?last=z', current).href,
      'https://r.example.com:8443/v2/a/tags/list?last=z',
    );
  });

  it('repairs a link that lost the port (Nexus)', () => {
    const current = new URL('https://nexus.example.com:8443/v2/a/tags/list?n=100');
    assert.equal(resolveNextPage('https://nexus.example.com/v2/a/tags/list?last=x', current).host, 'nexus.example.com:8443');
  });

  it('refuses a link to another origin', () => {
    const current = new URL('https://r.example.com/v2/a/tags/list?n=100');
    for (const target of [
      'https://evil.example.com/v2/a/tags/list?last=x',
      'http://r.example.com/v2/a/tags/list',
      '//evil.example.com/x',
      'https://r.example.com:444/x',
    ]) {
      assert.throws(
        () => resolveNextPage(target, current),
        (err: unknown) => {
          assert.ok(err instanceof TidemarkError);
          assert.equal(err.code, 'RegistryPaginationError');
          assert.equal(err.kind, 'terminal');
          assert.match(err.message, /another origin/);
          return true;
        },
      );
    }
  });
});
