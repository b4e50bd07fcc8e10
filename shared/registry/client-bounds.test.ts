import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { RegistryClient, type RegistryClientOptions } from './client.ts';
import { fakeClock, json, localServer, type Handler, type LocalServer } from './fixtures/local-server.ts';

/** Issue 21 item 7: a hostile registry cannot keep a scan going for ever, page by page. */

const servers: LocalServer[] = [];
const clients: RegistryClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(handler: Handler): Promise<LocalServer> {
  const server = await localServer(handler);
  servers.push(server);
  return server;
}

function client(options: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient({ clock: fakeClock(), random: () => 0.5, attempts: 1, ...options });
  clients.push(c);
  return c;
}

/** Every page holds one new tag and links to the next, without end; `delayMs` before each answer. */
function endlessPages(delayMs = 0): Handler {
  return (req, res, index) => {
    const reply = () => json(res, 200, { tags: [`t${index}`] }, { link: `</v2/app/tags/list?last=t${index}>; rel="next"` });
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  };
}

async function failure(promise: Promise<unknown>): Promise<TidemarkError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TidemarkError, `expected a TidemarkError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the listing to fail');
}

describe('listTags bounds', () => {
  it('stops after maxPages pages of one tag each', async () => {
    const server = await serve(endlessPages());
    const err = await failure(client({ maxPages: 5 }).listTags(`${server.host}/app`, { access: { insecure: true } }));
    assert.equal(err.code, 'RegistryPaginationError');
    assert.equal(err.kind, 'terminal');
    assert.match(err.message, /more than 5 pages/);
    assert.equal(server.requests.length, 5);
  });

  it('holds a registry to 1,000 pages by default', async () => {
    const server = await serve(endlessPages());
    const err = await failure(client().listTags(`${server.host}/app`, { access: { insecure: true } }));
    assert.equal(err.code, 'RegistryPaginationError');
    assert.equal(server.requests.length, 1000);
  });

  it('ends a listing that trickles pages at the scan deadline, every request answered in time', async () => {
    const server = await serve(endlessPages(20));
    const c = client({ scanTimeoutMs: 300, timeoutMs: 10_000, maxPages: 1_000_000, maxTags: 1_000_000 });
    const err = await failure(c.listTags(`${server.host}/app`, { access: { insecure: true } }));
    assert.equal(err.code, 'RegistryTimeout');
    assert.equal(err.kind, 'transient');
    assert.match(err.message, /listing tags of .*\/app took longer than 300ms/);
    assert.ok(server.requests.length > 1, 'several pages were read before the deadline');
  });

  it('refuses a page cap or scan deadline that is not a positive integer', () => {
    assert.throws(() => new RegistryClient({ maxPages: 0 }), /maxPages must be a positive integer/);
    assert.throws(() => new RegistryClient({ scanTimeoutMs: Number.NaN }), /scanTimeoutMs must be a positive integer/);
  });
});
