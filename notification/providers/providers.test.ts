import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { validateProviderSpec } from '../../shared/spec/provider.ts';
import type { NotificationEvent } from '../alerts/event.ts';
import { commitOf } from './commit-status.ts';
import { providerRequest, type ResolvedProvider } from './payloads.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: 'apps' },
  severity: 'error',
  timestamp: '2026-12-06T10:00:00Z',
  message: 'sync failed: GitUnreachable: cannot reach git.example.com',
  reason: 'GitUnreachable',
  metadata: { revision: `main@sha1:${SHA}`, env: 'prod' },
  reportingController: 'tidemark-agent',
  ...over,
});
const request = (provider: ResolvedProvider, e = event()) => {
  const out = providerRequest(provider, e);
  assert.ok(out);
  return { ...out, json: JSON.parse(out.body) as unknown };
};

describe('providers: message formats', () => {
  it('generic posts the event in Flux’s shape; generic-hmac signs exactly the bytes it sends', () => {
    const generic = request({ type: 'generic', address: 'https://hooks.example.com/x' });
    assert.deepEqual(generic.json, event());
    const signed = request({ type: 'generic-hmac', address: 'https://hooks.example.com/x', token: 'k3y' });
    const expected = createHmac('sha256', 'k3y').update(signed.body).digest('hex');
    assert.equal(signed.headers['x-signature'], `sha256=${expected}`);
    assert.throws(() => providerRequest({ type: 'generic-hmac', address: 'https://h/x' }, event()), /needs the key/);
  });

  it('slack and discord: an attachment coloured by severity, titled kind/name.namespace, metadata as fields', () => {
    const slack = request({ type: 'slack', address: 'https://hooks.slack.com/services/T/B/X', channel: '#ops', username: 'tidemark' });
    assert.deepEqual(slack.json, {
      channel: '#ops',
      username: 'tidemark',
      attachments: [
        {
          color: 'danger',
          author_name: 'continuousdeployment/web.apps',
          text: event().message,
          mrkdwn_in: ['text'],
          fields: [
            { title: 'env', value: 'prod', short: false },
            { title: 'revision', value: `main@sha1:${SHA}`, short: false },
          ],
        },
      ],
    });
    const discord = request({ type: 'discord', address: 'https://discord.com/api/webhooks/1/abc' }, event({ severity: 'info' }));
    assert.equal(discord.url, 'https://discord.com/api/webhooks/1/abc/slack');
    assert.equal((discord.json as { attachments: Array<{ color: string }> }).attachments[0]?.color, 'good');
  });

  it('msteams, googlechat and alertmanager in their documented shapes', () => {
    const teams = request({ type: 'msteams', address: 'https://example.webhook.office.com/x' }).json as Record<string, unknown>;
    assert.equal(teams['@type'], 'MessageCard');
    assert.equal(teams.themeColor, 'FF0000');
    const google = request({ type: 'googlechat', address: 'https://chat.googleapis.com/v1/spaces/x/messages' }).json as {
      cards: Array<{ header: { title: string } }>;
    };
    assert.equal(google.cards[0]?.header.title, 'continuousdeployment/web.apps');
    const am = request({ type: 'alertmanager', address: 'https://am.example/api/v2/alerts', token: 't' });
    assert.equal(am.headers.authorization, 'Bearer t');
    assert.deepEqual(am.json, [
      {
        labels: {
          env: 'prod',
          revision: `main@sha1:${SHA}`,
          alertname: 'TidemarkContinuousDeploymentGitUnreachable',
          severity: 'error',
          reason: 'GitUnreachable',
          kind: 'ContinuousDeployment',
          name: 'web',
          namespace: 'apps',
        },
        annotations: { message: event().message },
        startsAt: '2026-12-06T10:00:00Z',
      },
    ]);
  });
});

describe('providers: commit statuses on the synced commit', () => {
  it('posts to each forge’s statuses API with its states and auth', () => {
    const github = request({ type: 'github', address: 'https://github.com/org/app', token: 'ghp' }, event({ severity: 'info' }));
    assert.equal(github.url, `https://api.github.com/repos/org/app/statuses/${SHA}`);
    assert.equal(github.headers.authorization, 'Bearer ghp');
    assert.deepEqual(github.json, { state: 'success', context: 'tidemark/apps/web', description: event().message });
    const ghe = request({ type: 'github', address: 'https://git.corp.example/org/app.git', token: 'x' });
    assert.equal(ghe.url, `https://git.corp.example/api/v3/repos/org/app/statuses/${SHA}`);
    const gitlab = request({ type: 'gitlab', address: 'https://gitlab.example/group/sub/app', token: 'glpat' });
    assert.equal(gitlab.url, `https://gitlab.example/api/v4/projects/group%2Fsub%2Fapp/statuses/${SHA}`);
    assert.equal(gitlab.headers['private-token'], 'glpat');
    assert.equal((gitlab.json as { state: string }).state, 'failed');
    const gitea = request({ type: 'gitea', address: 'https://gitea.example/org/app', token: 'gt' });
    assert.equal(gitea.url, `https://gitea.example/api/v1/repos/org/app/statuses/${SHA}`);
    assert.equal(gitea.headers.authorization, 'token gt');
    const bitbucket = request({ type: 'bitbucket', address: 'https://bitbucket.org/org/app', username: 'u', password: 'p' });
    assert.equal(bitbucket.url, `https://api.bitbucket.org/2.0/repositories/org/app/commit/${SHA}/statuses/build`);
    assert.equal(bitbucket.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    const body = bitbucket.json as { state: string; key: string };
    assert.equal(body.state, 'FAILED');
    assert.ok(body.key.length <= 40);
  });

  it('says nothing without a revision or for other kinds, and keeps descriptions short', () => {
    const github: ResolvedProvider = { type: 'github', address: 'https://github.com/org/app', token: 't' };
    assert.equal(providerRequest(github, event({ metadata: {} })), undefined);
    assert.equal(providerRequest(github, event({ involvedObject: { ...event().involvedObject, kind: 'ImagePolicy' } })), undefined);
    const long = request(github, event({ message: 'x'.repeat(500) })).json as { description: string };
    assert.equal(long.description.length, 140);
    assert.equal(commitOf(`main@sha256:${'c'.repeat(64)}`), 'c'.repeat(64));
    assert.equal(commitOf('v1.2.3'), undefined);
  });
});

describe('providers: spec', () => {
  it('reports every problem at once, and refuses credentials in the address', () => {
    const read = validateProviderSpec({ type: 'pager', address: 'https://user:pw@hooks.example/x', timeout: '5m' });
    assert.equal(read.ok, false);
    const messages = !read.ok ? read.errors.map((e) => e.message) : [];
    assert.equal(messages.length, 3, messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('spec.type:')));
    assert.ok(messages.some((m) => m.startsWith('spec.address: must not carry credentials')));
    assert.ok(messages.some((m) => m.startsWith('spec.timeout:')));
    assert.ok(!messages.join('\n').includes('pw@'), 'the password is not repeated');
    const ok = validateProviderSpec({ type: 'slack', secretRef: { name: 'slack-url' } });
    assert.ok(ok.ok);
    assert.equal(ok.value.timeoutMs, 15_000);
  });
});
