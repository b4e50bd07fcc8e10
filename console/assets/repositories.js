// Code repositories: the list and the import form. The credential typed here goes to the server
// once, into a Secret; nothing the server sends back holds it.
import { ago, api, ApiError, el, liveFeed, say, showFieldProblems } from './common.js';

const CREDENTIAL = { none: 'None', basic: 'Username and password', token: 'Bearer token', ssh: 'SSH key' };
const tbody = /** @type {HTMLElement} */ (document.getElementById('repositories'));
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('import-dialog'));
const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
const kind = /** @type {HTMLSelectElement} */ (form.elements.namedItem('credential'));

async function load() {
  try {
    const { repositories } = await api('GET', '/api/repositories');
    tbody.replaceChildren(
      ...(repositories.length === 0
        ? [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No code repositories imported yet.'))]
        : repositories.map((/** @type {any} */ r) =>
            el(
              'tr',
              { 'data-key': `${r.namespace}/${r.name}` },
              el('td', {}, r.name),
              el('td', {}, r.namespace),
              el('td', { class: 'mono' }, r.url),
              el('td', {}, CREDENTIAL[/** @type {keyof typeof CREDENTIAL} */ (r.credential)] ?? r.credential),
              el('td', { title: r.created }, ago(r.created)),
            ),
          )),
    );
    document.body.dataset.loaded = 'yes';
  } catch (err) {
    say(`Cannot list the repositories: ${err instanceof Error ? err.message : String(err)}`, true);
  }
}

const showKind = () => {
  for (const part of /** @type {NodeListOf<HTMLElement>} */ (form.querySelectorAll('[data-kind]')))
    part.hidden = part.dataset.kind !== kind.value;
};
kind.addEventListener('change', showKind);

document.getElementById('import')?.addEventListener('click', () => {
  form.reset();
  showKind();
  showFieldProblems(form, []);
  dialog.showModal();
});
form.querySelector('button.cancel')?.addEventListener('click', () => dialog.close());
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  /** @type {Record<string, string>} */
  const body = {};
  for (const name of ['name', 'namespace', 'url', 'credential'])
    body[name] = /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;
  // Only the chosen credential's fields are sent.
  for (const field of /** @type {NodeListOf<HTMLInputElement>} */ (form.querySelectorAll(`[data-kind="${kind.value}"] [name]`)))
    body[field.name] = field.value;
  try {
    const made = await api('POST', '/api/repositories', body);
    form.reset();
    dialog.close();
    say(`Imported ${made.namespace}/${made.name}.`);
    await load();
  } catch (err) {
    showFieldProblems(
      form,
      err instanceof ApiError && err.problems.length > 0
        ? err.problems
        : [{ field: '', message: String(err instanceof Error ? err.message : err) }],
    );
  }
});

await load();
liveFeed({
  snapshot(data) {
    document.getElementById('scope')?.replaceChildren(data.scope.all ? 'All namespaces' : `Namespace ${data.scope.namespace}`);
    const namespaces = data.scope.all ? [...new Set(data.rows.map((/** @type {any} */ r) => r.namespace))].sort() : [data.scope.namespace];
    document.getElementById('namespaces')?.replaceChildren(...namespaces.map((ns) => el('option', { value: ns })));
    document.body.dataset.live = 'synced';
  },
});
