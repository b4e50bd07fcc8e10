// One continuous deployment: source, its comparison with Git, conditions, managed resources and
// recent Events. It reloads when the server's watch reports a change to this deployment.
import {
  ago,
  api,
  ApiError,
  badge,
  cdApiPath,
  confirmDelete,
  editDialog,
  el,
  liveFeed,
  say,
  setSuspended,
  shortRevision,
  syncNow,
} from './common.js';

const params = new URLSearchParams(location.search);
const ref = { namespace: params.get('namespace') ?? '', name: params.get('name') ?? '' };
const key = `${ref.namespace}/${ref.name}`;
/** @type {any} */
let details;

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {HTMLElement} tbody @param {string[][]} rows @param {string} none @param {number[]} [badges] columns shown as badges */
function fillTable(tbody, rows, none, badges = []) {
  const columns = tbody.closest('table')?.tHead?.rows[0]?.cells.length ?? 1;
  if (rows.length === 0) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: columns, class: 'muted' }, none)));
    return;
  }
  tbody.replaceChildren(
    ...rows.map((cells) => el('tr', {}, ...cells.map((text, i) => el('td', {}, badges.includes(i) ? badge(text) : text)))),
  );
}

function render() {
  const row = details.row;
  document.title = `${row.alias || row.name} · Tidemark`;
  byId('crumb').textContent = key;
  byId('title').textContent = row.alias || row.name;
  byId('subtitle').textContent = [row.alias ? `${row.name} in ${row.namespace}` : `in ${row.namespace}`, row.description]
    .filter(Boolean)
    .join(' · ');
  byId('s-health').replaceChildren(badge(row.deleting ? 'Deleting' : row.health));
  byId('s-sync').replaceChildren(badge(row.sync));
  byId('s-location').textContent = `${row.cluster} / ${row.targetNamespace}`;
  byId('s-revision').textContent = shortRevision(row.revision) || '—';
  byId('s-revision').title = row.revision;
  byId('s-updated').textContent = ago(row.updated);
  byId('s-updated').title = row.updated;
  byId('do-suspend').textContent = row.suspended ? 'Resume' : 'Suspend';
  for (const id of ['do-info', 'do-yaml', 'do-sync', 'do-suspend', 'do-delete'])
    /** @type {HTMLButtonElement} */ (byId(id)).disabled = row.deleting;

  const source = details.source;
  const facts = [
    ['Repository', source.url],
    ['Reference', source.ref],
    ['Path', source.path],
    ['Current revision', source.revision || '—'],
    ['Commit', commitText(source.revision)],
    ['Last applied', source.lastAppliedRevision || '—'],
    ['Pull interval', source.pullInterval],
    ['Sync mode', details.syncMode],
  ];
  byId('source').replaceChildren(...facts.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { class: 'mono' }, value)]));

  fillTable(
    byId('history'),
    details.history.map((/** @type {any} */ h) => [
      shortRevision(h.revision),
      h.subject || '—',
      h.result,
      h.trigger,
      ago(h.finishedAt),
      took(h.startedAt, h.finishedAt),
    ]),
    'No sync has applied a revision yet.',
    [2],
  );
  for (const [i, h] of details.history.entries()) {
    const cells = byId('history').rows[i]?.cells;
    if (!cells) continue;
    cells[0]?.setAttribute('title', h.revision);
    cells[0]?.classList.add('mono');
    if (h.detail) cells[2]?.setAttribute('title', h.detail);
    cells[4]?.setAttribute('title', h.finishedAt);
  }
  renderRevert();
  fillTable(
    byId('conditions'),
    details.conditions.map((/** @type {any} */ c) => [c.type, c.status, c.reason, c.message, ago(c.since)]),
    'No conditions reported yet.',
    [1],
  );
  fillTable(
    byId('resources'),
    details.resources.map((/** @type {any} */ r) => [r.kind, r.namespace || '—', r.name, r.health || 'Unknown', r.sync, r.message]),
    'No managed resources in the inventory.',
    [3, 4],
  );
  fillTable(
    byId('events'),
    details.events.map((/** @type {any} */ e) => [e.type, e.reason, e.count > 1 ? `${e.message} (×${e.count})` : e.message, ago(e.time)]),
    'No recent events.',
  );
  document.body.dataset.live = 'synced';
}

/**
 * The server's word on each entry's Revert: enabled, or disabled with its reason (shown beside the
 * button, not only in a tooltip). Asked when the page opens and whenever the history changes.
 * @type {any}
 */
let revertView;
/** The history the choices were asked for. @type {string | undefined} */
let revertKey;
/** What the last Revert of an entry came to, by revision: shown beside it. @type {Map<string, {text: string, failed: boolean}>} */
const revertOutcomes = new Map();

async function loadRevertChoices() {
  revertKey = details.history.map((/** @type {any} */ h) => h.revision).join(' ');
  try {
    revertView = await api('GET', `${cdApiPath(ref.namespace, ref.name)}/revert`);
  } catch (err) {
    revertView = { reason: `Cannot tell whether Revert works: ${err instanceof Error ? err.message : String(err)}`, entries: [] };
  }
  renderRevert();
  document.body.dataset.reverts = 'loaded';
}

function renderRevert() {
  const rows = byId('history').rows;
  for (const [i, h] of details.history.entries()) {
    const row = rows[i];
    if (!row) continue;
    row.querySelector('td.revert')?.remove();
    const choice = revertView?.entries.find((/** @type {any} */ e) => e.revision === h.revision);
    const reason = revertView === undefined ? 'Checking…' : (choice?.reason ?? (choice ? undefined : (revertView.reason ?? 'Checking…')));
    const short = shortRevision(h.revision);
    const button = el(
      'button',
      { type: 'button', class: 'action', 'aria-label': `Revert ${short}`, disabled: reason !== undefined },
      'Revert',
    );
    button.addEventListener('click', () => confirmRevert(h, /** @type {HTMLButtonElement} */ (button)));
    const outcome = revertOutcomes.get(h.revision);
    row.append(
      el(
        'td',
        { class: 'revert' },
        button,
        reason === undefined ? null : el('span', { class: 'reason' }, reason),
        // The probe could not tell (a redirect, no answer): the button stays, and the push will say.
        reason === undefined && revertView?.note ? el('span', { class: 'reason' }, `Push access not confirmed: ${revertView.note}.`) : null,
        outcome
          ? el('span', { class: `outcome${outcome.failed ? ' failed' : ''}`, role: outcome.failed ? 'alert' : 'status' }, outcome.text)
          : null,
      ),
    );
    if (reason !== undefined) button.setAttribute('title', reason);
  }
}

/**
 * Asks before pushing: a revert is a commit on the deployment's branch, with its credentials.
 * @param {any} h @param {HTMLButtonElement} button
 */
function confirmRevert(h, button) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('revert-dialog'));
  /** @type {HTMLElement} */ (dialog.querySelector('.target')).textContent = shortRevision(h.revision);
  const what = h.subject ? `“${h.subject}”` : 'this commit';
  /** @type {HTMLElement} */ (dialog.querySelector('.effect')).textContent =
    `Pushes a commit to ${revertView?.branch ?? 'the branch'} of ${details.source.url} that undoes ${what}, ` +
    'with the deployment’s credentials, and then syncs. The rollback stays in Git history.';
  dialog.returnValue = '';
  dialog.showModal();
  dialog.addEventListener(
    'close',
    async () => {
      if (dialog.returnValue !== 'revert') return;
      button.disabled = true;
      button.textContent = 'Reverting…';
      try {
        const done = await api('POST', `${cdApiPath(ref.namespace, ref.name)}/revert`, { revision: h.revision });
        const text = `Pushed ${String(done.commit).slice(0, 7)} to ${done.branch}; ${done.syncProblem ?? 'sync requested'}.`;
        revertOutcomes.set(h.revision, { text, failed: false });
        say(`Reverted ${shortRevision(h.revision)}: ${text}`);
      } catch (err) {
        revertOutcomes.set(h.revision, { text: `Could not revert: ${err instanceof Error ? err.message : String(err)}`, failed: true });
      }
      await loadRevertChoices();
      reloadSoon();
    },
    { once: true },
  );
}

/** How long a sync ran, in whole seconds. @param {string} started @param {string} finished */
function took(started, finished) {
  const ms = Date.parse(finished) - Date.parse(started);
  return Number.isFinite(ms) ? `${Math.max(0, Math.round(ms / 1000))} s` : '—';
}

/** @type {any} */
let comparison;

/** The subject and author of the current revision, once the comparison has read that commit. @param {string} revision */
function commitText(revision) {
  const commit = comparison?.commit;
  if (!commit || !revision || comparison.revision !== revision) return '—';
  return `${commit.subject} — ${commit.author}${commit.bot ? ' (bot)' : ''}`;
}

/** A unified diff as lines coloured by what they do; text only. @param {string} text */
function diffBlock(text) {
  const lines = text.replace(/\n$/, '').split('\n');
  return el(
    'pre',
    { class: 'diff mono' },
    ...lines.map((line) =>
      el(
        'span',
        { class: line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : '' },
        line,
      ),
    ),
  );
}

function renderComparison() {
  const commit = comparison.commit;
  const line = byId('commit');
  line.hidden = !commit;
  if (commit) {
    line.replaceChildren(
      el('span', { class: 'mono', title: comparison.revision }, shortRevision(comparison.revision)),
      ' ',
      el('span', { class: 'subject' }, commit.subject || '(no message)'),
      ` by ${commit.author} · ${ago(commit.authoredAt)} `,
      commit.bot ? el('span', { class: 'badge busy', title: 'Written by the image updater' }, 'bot commit') : '',
    );
  }
  const changes = comparison.changes;
  const summary = comparison.problem
    ? `Could not compare: ${comparison.problem}`
    : changes.length === 0
      ? 'The cluster matches Git.'
      : `${changes.length} object${changes.length === 1 ? '' : 's'} differ${changes.length === 1 ? 's' : ''} from Git:`;
  byId('compare-summary').textContent = [summary, ...comparison.notes.map((/** @type {any} */ n) => `${n.reason}: ${n.message}`)].join(' ');
  byId('changes').replaceChildren(
    ...changes.map((/** @type {any} */ c) =>
      el(
        'details',
        { class: 'change', open: changes.length <= 5 },
        el('summary', {}, badge(c.action), ' ', el('span', { class: 'mono' }, c.object)),
        c.diff ? diffBlock(c.diff) : el('p', { class: 'muted diff' }, 'A sync would delete it: it left Git.'),
      ),
    ),
  );
  if (details) render();
}

/** The comparison in flight: it may take a Git fetch, so leaving the page ends it (see liveFeed). */
/** @type {AbortController | undefined} */
let comparing;
window.addEventListener('pagehide', () => comparing?.abort());

/** Asks the server for the plan a sync would carry out now (it fetches from Git, so only on request or on opening). */
async function compare() {
  const button = /** @type {HTMLButtonElement} */ (byId('do-compare'));
  button.disabled = true;
  byId('compare-summary').textContent = 'Comparing with Git…';
  document.body.dataset.compared = 'no';
  try {
    comparing?.abort();
    comparing = new window.AbortController();
    comparison = await api('GET', `${cdApiPath(ref.namespace, ref.name)}/compare`, undefined, comparing.signal);
    renderComparison();
  } catch (err) {
    byId('compare-summary').textContent = `Could not compare: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    button.disabled = false;
    document.body.dataset.compared = 'yes';
  }
}

async function load() {
  try {
    const before = details && `${details.row.sync} ${details.row.revision}`;
    details = await api('GET', cdApiPath(ref.namespace, ref.name));
    byId('problem').hidden = true;
    render();
    if (details.history.map((/** @type {any} */ h) => h.revision).join(' ') !== revertKey) void loadRevertChoices();
    // A sync that ended, or a new revision: what differs has changed too.
    if (before !== undefined && before !== `${details.row.sync} ${details.row.revision}`) void compare();
  } catch (err) {
    byId('problem').hidden = false;
    byId('problem').textContent =
      err instanceof ApiError && err.status === 404
        ? `Continuous deployment ${key} does not exist (any more).`
        : `Cannot show ${key}: ${String(err instanceof Error ? err.message : err)}`;
  }
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let pending;
/** Reloads once for a burst of changes (a sync writes status several times). */
function reloadSoon() {
  clearTimeout(pending);
  pending = setTimeout(load, 300);
}

byId('do-sync').addEventListener('click', () => syncNow(ref));
byId('do-compare').addEventListener('click', compare);
byId('do-info').addEventListener('click', () => {
  const dialog = /** @type {HTMLDialogElement} */ (byId('info-dialog'));
  const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
  /** @type {HTMLInputElement} */ (form.elements.namedItem('alias')).value = details?.row.alias ?? '';
  /** @type {HTMLTextAreaElement} */ (form.elements.namedItem('description')).value = details?.row.description ?? '';
  editDialog(dialog, async (f) => {
    const value = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (f.elements.namedItem(name)).value;
    await api('POST', `${cdApiPath(ref.namespace, ref.name)}/info`, { alias: value('alias'), description: value('description') });
    say('Information saved.');
  });
});
byId('do-yaml').addEventListener('click', async () => {
  const dialog = /** @type {HTMLDialogElement} */ (byId('yaml-dialog'));
  const text = /** @type {HTMLTextAreaElement} */ (dialog.querySelector('textarea'));
  try {
    text.value = (await api('GET', `${cdApiPath(ref.namespace, ref.name)}/yaml`)).yaml;
  } catch (err) {
    say(`Cannot open the YAML: ${err instanceof Error ? err.message : String(err)}`, true);
    return;
  }
  editDialog(dialog, async () => {
    await api('POST', `${cdApiPath(ref.namespace, ref.name)}/yaml`, { yaml: text.value });
    say('YAML saved.');
    reloadSoon();
  });
});
byId('do-suspend').addEventListener('click', () => setSuspended(ref, !details?.row.suspended));
byId('do-delete').addEventListener('click', async () => {
  if (await confirmDelete({ ...ref, suspended: details?.row.suspended ?? false })) reloadSoon();
});

await load();
void compare();
liveFeed({
  upsert(row) {
    if (`${row.namespace}/${row.name}` === key) reloadSoon();
  },
  changed(ref) {
    if (`${ref.namespace}/${ref.name}` === key) reloadSoon();
  },
  delete(gone) {
    if (`${gone.namespace}/${gone.name}` === key) reloadSoon();
  },
  snapshot(data) {
    byId('scope').textContent = data.scope.all ? 'All namespaces' : `Namespace ${data.scope.namespace}`;
  },
  down() {
    say('Connection to the console lost; reconnecting…', true);
  },
});
