// The list of continuous deployments: one live event stream, rows updated in place (a focused
// button keeps its focus), filters and search in the page.
import { ago, badge, cdPagePath, confirmDelete, el, liveFeed, say, setSuspended, shortRevision, syncNow } from './common.js';

/**
 * A row as console/view.ts makes it.
 * @typedef {{ namespace: string, name: string, alias: string, description: string, health: string, sync: string,
 *   suspended: boolean, keepsObjectsOnDelete: boolean, cluster: string, targetNamespace: string, revision: string,
 *   updated: string, ready?: { status: string, reason: string, message: string }, deleting: boolean }} Row
 */

/** @type {Map<string, Row>} */
const rows = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const lines = new Map();

const tbody = /** @type {HTMLTableSectionElement} */ (document.getElementById('rows'));
const search = /** @type {HTMLInputElement} */ (document.getElementById('search'));
const nsFilter = /** @type {HTMLSelectElement} */ (document.getElementById('f-namespace'));
const healthFilter = /** @type {HTMLSelectElement} */ (document.getElementById('f-health'));
const syncFilter = /** @type {HTMLSelectElement} */ (document.getElementById('f-sync'));
const count = /** @type {HTMLElement} */ (document.getElementById('count'));
const empty = /** @type {HTMLElement} */ (document.getElementById('empty'));
const problem = /** @type {HTMLElement} */ (document.getElementById('problem'));
const scope = /** @type {HTMLElement} */ (document.getElementById('scope'));

/** @param {{namespace: string, name: string}} r */
const keyOf = (r) => `${r.namespace}/${r.name}`;

/** The cells of one row, kept so an update changes text, not elements. @param {Row} row */
function buildLine(row) {
  const link = el('a', { class: 'name' });
  const alias = el('span', { class: 'alias' });
  const sync = el('button', { type: 'button', class: 'action', onclick: () => syncNow(current(row)) }, 'Sync');
  const suspend = el('button', { type: 'button', class: 'action', onclick: () => setSuspended(current(row), !current(row).suspended) });
  const del = el('button', { type: 'button', class: 'action danger', onclick: () => confirmDelete(current(row)) }, 'Delete');
  const line = /** @type {HTMLTableRowElement} */ (
    el(
      'tr',
      { 'data-key': keyOf(row) },
      el('td', {}, link, alias),
      el('td', { class: 'health' }),
      el('td', { class: 'sync' }),
      el('td', { class: 'location' }),
      el('td', { class: 'revision mono' }),
      el('td', { class: 'updated' }),
      el('td', { class: 'actions' }, sync, suspend, del),
    )
  );
  lines.set(keyOf(row), line);
  return line;
}

/** The newest copy of a row, for a button built with an older one. @param {Row} row */
function current(row) {
  return rows.get(keyOf(row)) ?? row;
}

/** @param {HTMLTableRowElement} line @param {Row} row */
function fill(line, row) {
  const [nameCell, health, sync, location, revision, updated, actions] = /** @type {HTMLElement[]} */ ([...line.cells]);
  const link = /** @type {HTMLAnchorElement} */ (nameCell.querySelector('a'));
  link.textContent = row.alias || row.name;
  link.href = cdPagePath(row.namespace, row.name);
  const alias = /** @type {HTMLElement} */ (nameCell.querySelector('.alias'));
  alias.textContent = row.alias ? `${row.name} · ${row.namespace}` : row.namespace;
  health.replaceChildren(badge(row.deleting ? 'Deleting' : row.health));
  sync.replaceChildren(badge(row.sync));
  if (row.ready && row.ready.status === 'False') health.title = `${row.ready.reason}: ${row.ready.message}`;
  else health.removeAttribute('title');
  location.textContent = `${row.cluster} / ${row.targetNamespace}`;
  revision.textContent = shortRevision(row.revision) || '—';
  revision.title = row.revision;
  updated.textContent = ago(row.updated);
  updated.title = row.updated;
  const [syncButton, suspendButton, deleteButton] = /** @type {HTMLButtonElement[]} */ ([...actions.querySelectorAll('button')]);
  suspendButton.textContent = row.suspended ? 'Resume' : 'Suspend';
  for (const [button, verb] of /** @type {const} */ ([
    [syncButton, 'Sync'],
    [suspendButton, row.suspended ? 'Resume' : 'Suspend'],
    [deleteButton, 'Delete'],
  ]))
    button.setAttribute('aria-label', `${verb} ${row.namespace}/${row.name}`);
  syncButton.disabled = row.deleting;
  suspendButton.disabled = row.deleting;
  deleteButton.disabled = row.deleting;
}

/** @param {Row} row */
function matches(row) {
  const text = search.value.trim().toLowerCase();
  if (nsFilter.value && row.namespace !== nsFilter.value) return false;
  if (healthFilter.value && row.health !== healthFilter.value) return false;
  if (syncFilter.value && row.sync !== syncFilter.value) return false;
  if (!text) return true;
  return [row.name, row.alias, row.namespace, row.description].some((field) => field.toLowerCase().includes(text));
}

function applyFilters() {
  let shown = 0;
  for (const [key, line] of lines) {
    const row = rows.get(key);
    const visible = row !== undefined && matches(row);
    line.hidden = !visible;
    if (visible) shown++;
  }
  const plural = rows.size === 1 ? 'deployment' : 'deployments';
  count.textContent = rows.size === 0 ? '' : shown === rows.size ? `${rows.size} ${plural}` : `${shown} of ${rows.size} ${plural}`;
  empty.hidden = shown > 0;
  empty.textContent = rows.size === 0 ? 'No continuous deployments yet.' : 'No continuous deployment matches the filters.';
}

function refreshNamespaces() {
  const names = [...new Set([...rows.values()].map((r) => r.namespace))].sort();
  const chosen = nsFilter.value;
  nsFilter.replaceChildren(el('option', { value: '' }, 'All namespaces'), ...names.map((ns) => el('option', { value: ns }, ns)));
  nsFilter.value = names.includes(chosen) ? chosen : '';
}

/** Puts a row's line where the sort order (namespace, name) says. @param {Row} row */
function place(row) {
  const key = keyOf(row);
  const line = lines.get(key) ?? buildLine(row);
  fill(line, row);
  if (line.parentElement) return;
  const after = [...lines.keys()].filter((k) => k > key && lines.get(k)?.parentElement).sort()[0];
  tbody.insertBefore(line, after ? (lines.get(after) ?? null) : null);
}

liveFeed({
  snapshot(data) {
    rows.clear();
    lines.clear();
    tbody.replaceChildren();
    for (const row of data.rows) {
      rows.set(keyOf(row), row);
      const line = buildLine(row);
      fill(line, row);
      tbody.append(line);
    }
    scope.textContent = data.scope.all ? 'All namespaces' : `Namespace ${data.scope.namespace}`;
    scope.title = data.scope.all
      ? ''
      : 'Your credentials may not watch continuous deployments in every namespace; this is the context namespace.';
    problem.hidden = !data.problem;
    problem.textContent = data.problem ?? '';
    document.body.dataset.live = data.synced ? 'synced' : 'loading';
    refreshNamespaces();
    applyFilters();
  },
  upsert(row) {
    const isNew = !rows.has(keyOf(row));
    rows.set(keyOf(row), row);
    place(row);
    if (isNew) refreshNamespaces();
    applyFilters();
  },
  delete(ref) {
    rows.delete(keyOf(ref));
    lines.get(keyOf(ref))?.remove();
    lines.delete(keyOf(ref));
    refreshNamespaces();
    applyFilters();
  },
  problem(p) {
    problem.hidden = false;
    problem.textContent = `The live list may be out of date: ${p.message}`;
  },
  down() {
    say('Connection to the console lost; reconnecting…', true);
  },
});

for (const control of [search, nsFilter, healthFilter, syncFilter]) control.addEventListener('input', applyFilters);
document.getElementById('filters')?.addEventListener('submit', (event) => event.preventDefault());
// Relative times age while the page is open.
setInterval(() => {
  for (const [key, line] of lines) {
    const row = rows.get(key);
    const updated = /** @type {HTMLElement} */ (line.cells[5]);
    if (row) updated.textContent = ago(row.updated);
  }
}, 30_000);
