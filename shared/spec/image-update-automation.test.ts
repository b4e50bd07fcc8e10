import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_AUTHOR, messageTemplateOf, validateImageUpdateAutomationSpec, type AutomationConfig } from './index.ts';

function valid(spec: unknown): AutomationConfig {
  const result = validateImageUpdateAutomationSpec(spec);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

function errors(spec: unknown): string[] {
  const result = validateImageUpdateAutomationSpec(spec);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.errors.map((e) => e.message);
}

describe('validateImageUpdateAutomationSpec', () => {
  it('defaults everything but the source', () => {
    assert.deepEqual(valid({ sourceRef: { name: 'app' } }), {
      sourceName: 'app',
      checkoutBranch: undefined,
      pushBranch: undefined,
      author: DEFAULT_AUTHOR,
      messageTemplate: undefined,
      messageTemplateValues: {},
      signingKeySecret: undefined,
      updatePath: undefined,
      intervalMs: 5 * 60_000,
      suspend: false,
    });
  });

  it('reads a full spec', () => {
    const config = valid({
      sourceRef: { kind: 'ContinuousDeployment', name: 'app' },
      git: {
        checkout: { ref: { branch: 'main' } },
        push: { branch: 'tidemark/updates' },
        commit: {
          author: { name: 'Release Bot', email: 'bot@example.com' },
          messageTemplate: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
          messageTemplateValues: { env: 'prod' },
          signingKey: { secretRef: { name: 'signing' } },
        },
      },
      update: { path: './clusters/prod', strategy: 'Setters' },
      interval: '1m30s',
      suspend: true,
    });
    assert.deepEqual(config, {
      sourceName: 'app',
      checkoutBranch: 'main',
      pushBranch: 'tidemark/updates',
      author: { name: 'Release Bot', email: 'bot@example.com' },
      messageTemplate: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
      messageTemplateValues: { env: 'prod' },
      signingKeySecret: 'signing',
      updatePath: './clusters/prod',
      intervalMs: 90_000,
      suspend: true,
    });
  });

  it('reports every problem at once, naming the field', () => {
    const messages = errors({
      sourceRef: { kind: 'GitRepository', name: 'App' },
      git: {
        checkout: { ref: { branch: '-x' } },
        push: { branch: 'a..b' },
        commit: { author: { email: 'a <b>' }, messageTemplateValues: { n: 1 } },
      },
      update: { strategy: 'Regex' },
      interval: 'soon',
      extra: true,
    });
    const expected = [
      /spec\.sourceRef\.kind: "GitRepository" is not supported/,
      /spec\.sourceRef\.name: "App" is not a valid name/,
      /spec\.git\.checkout\.ref\.branch: "-x" is not a valid branch name: starts with "-"/,
      /spec\.git\.push\.branch: "a\.\.b" is not a valid branch name/,
      /spec\.git\.commit\.author\.email: must not be empty or contain </,
      /spec\.git\.commit\.messageTemplateValues\.n: must be a string/,
      /spec\.update\.strategy: "Regex" is not supported/,
      /spec\.interval: /,
      /spec\.extra: unknown field/,
    ];
    for (const pattern of expected)
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `${pattern} in ${JSON.stringify(messages, null, 1)}`,
      );
    assert.equal(messages.length, expected.length, JSON.stringify(messages, null, 1));
  });

  it('requires the source', () => {
    assert.match(errors({})[0] ?? '', /spec\.sourceRef: is required/);
    assert.match(
      errors({ sourceRef: { name: 'app' }, git: { commit: { signingKey: { secretRef: { name: 'k', key: 'x' } } } } })[0] ?? '',
      /signingKey\.secretRef\.key: unknown field/,
    );
  });

  it('leaves the template to the image updater: messageTemplateOf hands it over when it is worth compiling', () => {
    const template = 'Image: {{range .Updated.Images}}';
    // The reader does not compile it, so a template Go would refuse passes here...
    assert.equal(valid({ sourceRef: { name: 'app' }, git: { commit: { messageTemplate: template } } }).messageTemplate, template);
    // ...and is handed over even when the rest of the spec does not read.
    assert.equal(messageTemplateOf({ interval: 'soon', git: { commit: { messageTemplate: template } } }), template);
    assert.equal(messageTemplateOf({ git: { commit: { messageTemplate: 42 } } }), undefined);
    assert.equal(messageTemplateOf({ git: 'x' }), undefined);
    const long = { sourceRef: { name: 'app' }, git: { commit: { messageTemplate: 'x'.repeat(64 * 1024 + 1) } } };
    assert.equal(messageTemplateOf(long), undefined);
    assert.match(errors(long)[0] ?? '', /spec\.git\.commit\.messageTemplate: is longer than 65536 bytes/);
  });
});
