// Images: what the image updater scans, chooses and commits, read with the user's credentials.
import { ago, api, badge, cdPagePath, el, liveFeed, say } from './common.js';

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {string} iso */
const when = (iso) => el('span', { title: iso }, ago(iso));
/** @param {any} ready */
const readyCells = (ready) => [
  el('td', {}, badge(ready?.status ?? 'Unknown')),
  el('td', {}, ready ? `${ready.reason}: ${ready.message}` : ''),
];
/** @param {any} row */
const nameCell = (row) => el('td', {}, row.name, el('span', { class: 'muted' }, ` · ${row.namespace}`));

/** @param {HTMLElement} tbody @param {HTMLElement[]} rows @param {string} none */
function fill(tbody, rows, none) {
  tbody.replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, none))]));
}

async function load() {
  try {
    const page = await api('GET', '/api/images');
    fill(
      byId('repositories'),
      page.repositories.map((/** @type {any} */ r) =>
        el(
          'tr',
          { 'data-key': `${r.namespace}/${r.name}` },
          nameCell(r),
          el('td', { class: 'mono' }, r.image),
          el('td', { class: 'mono' }, r.latestTags.join(', ') + (r.tagCount > r.latestTags.length ? ` (of ${r.tagCount})` : '')),
          el('td', {}, when(r.lastScan)),
          ...readyCells(r.ready),
        ),
      ),
      'No image repositories.',
    );
    fill(
      byId('policies'),
      page.policies.map((/** @type {any} */ p) =>
        el(
          'tr',
          { 'data-key': `${p.namespace}/${p.name}` },
          nameCell(p),
          el('td', {}, p.repository),
          el('td', { class: 'mono' }, p.policy),
          el('td', { class: 'mono' }, p.latest || '—'),
          ...readyCells(p.ready),
        ),
      ),
      'No image policies.',
    );
    fill(
      byId('automations'),
      page.automations.map((/** @type {any} */ a) =>
        el(
          'tr',
          { 'data-key': `${a.namespace}/${a.name}` },
          nameCell(a),
          el('td', {}, a.source ? el('a', { href: cdPagePath(a.namespace, a.source) }, a.source) : '—'),
          el('td', {}, when(a.lastRun)),
          el(
            'td',
            {},
            a.lastPushCommit ? el('span', { class: 'mono', title: a.lastPushCommit }, a.lastPushCommit.slice(0, 7)) : '—',
            a.lastPushTime ? el('span', { class: 'muted', title: a.lastPushTime }, ` ${ago(a.lastPushTime)}`) : '',
          ),
          ...readyCells(a.ready),
        ),
      ),
      'No image update automations.',
    );
    byId('problem').hidden = page.refused.length === 0;
    byId('problem').textContent = page.refused.length > 0 ? `Not shown — Kubernetes refused: ${page.refused.join('; ')}` : '';
    document.body.dataset.loaded = 'yes';
  } catch (err) {
    say(`Cannot show the images: ${err instanceof Error ? err.message : String(err)}`, true);
  }
}

byId('refresh').addEventListener('click', () => void load());
await load();
liveFeed({
  snapshot(data) {
    byId('scope').textContent = data.scope.all ? 'All namespaces' : `Namespace ${data.scope.namespace}`;
    document.body.dataset.live = 'synced';
  },
});
