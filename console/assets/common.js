// What both pages share: building DOM from data (text only, never HTML), calling the console's
// API with the CSRF token, the live event stream, and the row actions.

/**
 * An element with properties and children. Strings become text nodes: data from the cluster is
 * never parsed as HTML.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export class ApiError extends Error {
  /**
   * @param {number} status @param {string} message @param {string} reason
   * @param {Array<{ field: string, message: string }>} [problems] what is wrong, by field
   */
  constructor(status, message, reason, problems = []) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.problems = problems;
  }
}

/** @type {Promise<string> | undefined} */
let csrfToken;

/** The session's CSRF token, asked for once per page (it is never in the page itself). */
function csrf() {
  csrfToken ??= fetch('/api/session', { credentials: 'same-origin' })
    .then((res) => (res.ok ? res.json() : Promise.reject(new ApiError(res.status, 'not logged in', 'Unauthorized'))))
    .then((body) => String(body.csrfToken));
  return csrfToken;
}

/**
 * @param {'GET' | 'POST' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 */
export async function api(method, path, body, signal) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = await csrf();
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new ApiError(res.status, data.error ?? res.statusText, data.reason ?? '', Array.isArray(data.problems) ? data.problems : []);
  return data;
}

/** @param {string} namespace @param {string} name */
export function cdApiPath(namespace, name) {
  return `/api/cds/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** @param {string} namespace @param {string} name */
export function cdPagePath(namespace, name) {
  return `/cd?${new URLSearchParams({ namespace, name }).toString()}`;
}

/** `main@sha1:5b1c0e8f…` → `main@5b1c0e8`. @param {string} revision */
export function shortRevision(revision) {
  const match = /^(.*?)@?sha1:([0-9a-f]{7})[0-9a-f]*$/.exec(revision);
  if (!match) return revision;
  return match[1] ? `${match[1]}@${match[2]}` : match[2];
}

/** "3m ago", from an RFC 3339 time. @param {string} iso */
export function ago(iso) {
  const ms = Date.parse(iso);
  if (!iso || Number.isNaN(ms)) return '—';
  const seconds = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** A status word as a coloured pill. @param {string} value */
export function badge(value) {
  const tone =
    {
      Healthy: 'good',
      Synced: 'good',
      True: 'good',
      Progressing: 'busy',
      Degraded: 'bad',
      Missing: 'bad',
      OutOfSync: 'warn',
      False: 'bad',
      Suspended: 'muted',
      Succeeded: 'good',
      Failed: 'bad',
      Superseded: 'warn',
    }[value] ?? 'muted';
  return el('span', { class: `badge ${tone}`, text: value || 'Unknown' });
}

/**
 * The one event stream of the server's watch. Reconnects on its own (EventSource does); the
 * server starts every connection with a full snapshot, so nothing is missed in between.
 * @param {{ snapshot?: (data: any) => void, upsert?: (row: any) => void, delete?: (ref: any) => void,
 *   changed?: (ref: any) => void, problem?: (p: any) => void, down?: () => void }} on
 */
export function liveFeed(on) {
  const source = new EventSource('/api/events');
  // A browser gives one host six connections: a stream left open by a page that is gone (or kept
  // in the back-forward cache) would take one for good, and the seventh request would wait forever.
  window.addEventListener('pagehide', () => source.close());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });
  for (const name of /** @type {const} */ (['snapshot', 'upsert', 'delete', 'changed', 'problem'])) {
    source.addEventListener(name, (event) => on[name]?.(JSON.parse(/** @type {MessageEvent} */ (event).data)));
  }
  source.addEventListener('error', () => on.down?.());
  return source;
}

/** Tells the user what happened, for screen readers too (the element is a live region). @param {string} text @param {boolean} [failed] */
export function say(text, failed = false) {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('failed', failed);
}

/** @param {unknown} err */
function reasonOf(err) {
  if (err instanceof ApiError) return err.status === 403 && err.reason === 'Forbidden' ? `Kubernetes refused: ${err.message}` : err.message;
  return String(err);
}

/** @param {{namespace: string, name: string}} row */
export async function syncNow(row) {
  try {
    await api('POST', `${cdApiPath(row.namespace, row.name)}/sync`);
    say(`Sync requested for ${row.namespace}/${row.name}.`);
  } catch (err) {
    say(`Could not sync ${row.namespace}/${row.name}: ${reasonOf(err)}`, true);
  }
}

/** @param {{namespace: string, name: string}} row @param {boolean} suspend */
export async function setSuspended(row, suspend) {
  try {
    await api('POST', `${cdApiPath(row.namespace, row.name)}/${suspend ? 'suspend' : 'resume'}`);
    say(`${suspend ? 'Suspended' : 'Resumed'} ${row.namespace}/${row.name}.`);
  } catch (err) {
    say(`Could not ${suspend ? 'suspend' : 'resume'} ${row.namespace}/${row.name}: ${reasonOf(err)}`, true);
  }
}

/**
 * Asks before deleting, and says what deleting does: the deployed resources go with it unless
 * the user keeps them (orphan) — or the deployment is suspended, when the agent leaves them anyway.
 * @param {{namespace: string, name: string, suspended: boolean}} row
 * @returns {Promise<boolean>} whether it was deleted
 */
export function confirmDelete(row) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('delete-dialog'));
  const target = /** @type {HTMLElement} */ (dialog.querySelector('.target'));
  const effect = /** @type {HTMLElement} */ (dialog.querySelector('.effect'));
  const orphan = /** @type {HTMLInputElement} */ (dialog.querySelector('input[name=orphan]'));
  target.textContent = `${row.namespace}/${row.name}`;
  orphan.checked = false;
  const explain = () => {
    const why = row.suspended && !orphan.checked ? ' (it is suspended)' : '';
    effect.textContent =
      orphan.checked || row.suspended
        ? `The resources it deployed stay in the cluster${why}; only the continuous deployment is removed.`
        : 'Deleting a continuous deployment also deletes every resource it deployed.';
  };
  explain();
  orphan.onchange = explain;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      async () => {
        if (dialog.returnValue !== 'delete') return resolve(false);
        try {
          await api('DELETE', cdApiPath(row.namespace, row.name), { orphan: orphan.checked });
          say(`Deleted ${row.namespace}/${row.name}${orphan.checked ? '; its resources were kept' : ''}.`);
          resolve(true);
        } catch (err) {
          say(`Could not delete ${row.namespace}/${row.name}: ${reasonOf(err)}`, true);
          resolve(false);
        }
      },
      { once: true },
    );
  });
}

/**
 * Lists an edit's problems by field in `list`, or hides it when there are none.
 * @param {HTMLElement} list @param {Array<{ field: string, message: string }>} problems
 */
export function showProblems(list, problems) {
  list.replaceChildren(...problems.map((p) => el('li', {}, p.field ? el('code', {}, p.field) : '', p.field ? ` ${p.message}` : p.message)));
  list.hidden = problems.length === 0;
}

/**
 * Opens a dialog whose form saves through `save`; problems stay in the dialog beside the form,
 * and it closes only when the save worked.
 * @param {HTMLDialogElement} dialog
 * @param {(form: HTMLFormElement) => Promise<void>} save
 */
export function editDialog(dialog, save) {
  const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
  const list = /** @type {HTMLElement} */ (dialog.querySelector('.problems'));
  showProblems(list, []);
  form.onsubmit = async (event) => {
    event.preventDefault();
    try {
      await save(form);
      dialog.close();
    } catch (err) {
      showProblems(list, err instanceof ApiError && err.problems.length > 0 ? err.problems : [{ field: '', message: reasonOf(err) }]);
    }
  };
  const cancel = dialog.querySelector('button.cancel');
  if (cancel) /** @type {HTMLButtonElement} */ (cancel).onclick = () => dialog.close();
  dialog.showModal();
}

/**
 * The form element a problem's field path belongs to: the one whose data-field is the longest
 * prefix of it (`spec.git.branch` → the reference fields).
 * @param {HTMLFormElement} form @param {string} field
 */
function holderOf(form, field) {
  /** @type {HTMLElement | undefined} */
  let best;
  for (const holder of /** @type {NodeListOf<HTMLElement>} */ (form.querySelectorAll('[data-field]'))) {
    const path = holder.dataset.field ?? '';
    if ((field === path || field.startsWith(`${path}.`)) && path.length > (best?.dataset.field?.length ?? -1)) best = holder;
  }
  return best;
}

/**
 * Shows each problem beside the field it concerns (marked invalid and described by it), and
 * those without a field in the form's problem list. Returns the first field with a problem.
 * @param {HTMLFormElement} form @param {Array<{ field: string, message: string }>} problems
 * @returns {HTMLElement | undefined}
 */
export function showFieldProblems(form, problems) {
  for (const p of form.querySelectorAll('.field-problem')) p.remove();
  for (const f of form.querySelectorAll('[aria-invalid]')) {
    f.removeAttribute('aria-invalid');
    f.removeAttribute('aria-describedby');
  }
  const list = /** @type {HTMLElement} */ (form.querySelector('ul.problems'));
  /** @type {Array<{ field: string, message: string }>} */
  const unplaced = [];
  /** @type {HTMLElement | undefined} */
  let first;
  for (const [i, problem] of problems.entries()) {
    const holder = problem.field ? holderOf(form, problem.field) : undefined;
    if (!holder) {
      unplaced.push(problem);
      continue;
    }
    const id = `problem-${i}`;
    holder.append(el('span', { class: 'field-problem', id }, problem.message));
    const control = holder.querySelector('input, select, textarea');
    control?.setAttribute('aria-invalid', 'true');
    control?.setAttribute('aria-describedby', id);
    first ??= holder;
  }
  showProblems(list, unplaced);
  return first;
}

/** In-cluster, the header gets a Log out button: it ends the session and forgets the token on the server. */
async function offerLogout() {
  const session = await fetch('/api/session', { credentials: 'same-origin' }).then((res) => (res.ok ? res.json() : undefined));
  const header = document.querySelector('header.top');
  if (!session?.inCluster || !header) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'action';
  button.id = 'logout';
  button.textContent = 'Log out';
  button.addEventListener('click', () => {
    api('POST', '/api/logout')
      .catch(() => undefined)
      .finally(() => location.assign('/login'));
  });
  header.append(button);
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void offerLogout().catch(() => undefined));
  else void offerLogout().catch(() => undefined);
}
