import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ALERT_SOURCE_KINDS, PROVIDER_TYPES } from '../api/alerting.ts';
import { ALERT_FIELDS, MAX_ALERT_PATTERNS, MAX_ALERT_SOURCES } from './alert.ts';
import { PROVIDER_FIELDS } from './provider.ts';

type Schema = { properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; maxItems?: number; default?: unknown };

const specOf = (file: string): Schema => {
  const crd = parse(readFileSync(new URL(`../../charts/tidemark/crds/${file}`, import.meta.url), 'utf8')) as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> };
  };
  return crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec ?? {};
};

test('Provider and Alert CRDs declare exactly the fields, types and kinds the readers know', () => {
  const provider = specOf('providers.yaml');
  assert.deepEqual(Object.keys(provider.properties ?? {}).sort(), [...PROVIDER_FIELDS].sort());
  assert.deepEqual(provider.properties?.type?.enum, [...PROVIDER_TYPES]);
  const alert = specOf('alerts.yaml');
  assert.deepEqual(Object.keys(alert.properties ?? {}).sort(), [...ALERT_FIELDS].sort());
  const sources = alert.properties?.eventSources;
  assert.deepEqual(sources?.items?.properties?.kind?.enum, [...ALERT_SOURCE_KINDS]);
  assert.equal(sources?.maxItems, MAX_ALERT_SOURCES);
  assert.equal(alert.properties?.inclusionList?.maxItems, MAX_ALERT_PATTERNS);
  assert.deepEqual(alert.properties?.eventSeverity?.enum, ['info', 'error']);
});
