// The create form, in KubeSphere's steps. Every submit goes to the server, which reads the form
// with the same spec reader as the agent and asks the API server for a dry run before it creates:
// problems come back by field path and are shown beside the fields they concern.
import { api, ApiError, cdPagePath, el, liveFeed, say, showFieldProblems } from './common.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('create-form'));
const steps = /** @type {HTMLOListElement} */ (document.getElementById('steps'));
const pages = /** @type {HTMLFieldSetElement[]} */ ([...form.querySelectorAll(':scope > fieldset')]);
const back = /** @type {HTMLButtonElement} */ (document.getElementById('back'));
const next = /** @type {HTMLButtonElement} */ (document.getElementById('next'));
let current = 0;

/** @param {string} name */
const input = (name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
/** @param {string} name */
const value = (name) => input(name).value.trim();
/** @param {string} name */
const checked = (name) => input(name).checked;
/** The chosen value of a radio group. @param {string} name */
const choice = (name) => /** @type {HTMLInputElement | null} */ (form.querySelector(`input[name="${name}"]:checked`))?.value ?? '';

/** @param {number} index */
function show(index) {
  current = Math.max(0, Math.min(pages.length - 1, index));
  pages.forEach((page, i) => (page.hidden = i !== current));
  for (const [i, button] of [...steps.querySelectorAll('button')].entries()) {
    if (i === current) button.setAttribute('aria-current', 'step');
    else button.removeAttribute('aria-current');
  }
  back.disabled = current === 0;
  next.hidden = current === pages.length - 1;
}

steps.replaceChildren(
  ...pages.map((page, i) =>
    el('li', {}, el('button', { type: 'button', class: 'step', onclick: () => show(i) }, `${i + 1}. ${page.dataset.title ?? ''}`)),
  ),
);
back.addEventListener('click', () => show(current - 1));
next.addEventListener('click', () => show(current + 1));

const imageFields = /** @type {HTMLElement} */ (document.getElementById('image-fields'));
const syncImageFields = () => (imageFields.hidden = !checked('imageEnabled'));
input('imageEnabled').addEventListener('change', syncImageFields);
syncImageFields();

/** The spec as the form says it; fields left at the defaults are left out, as a user writing YAML would. */
function specOf() {
  /** @type {Record<string, any>} */
  const spec = { url: value('url') };
  if (value('secretRef')) spec.secretRef = value('secretRef');
  if (choice('cluster') === 'remote') spec.kubeConfig = { secretRef: { name: value('kubeConfigSecret') } };
  if (value('targetNamespace')) spec.targetNamespace = value('targetNamespace');
  spec.git = { [input('refType').value]: value('refValue') };
  if (value('path')) spec.path = value('path');
  if (value('pullInterval')) spec.pullInterval = value('pullInterval');
  spec.prune = checked('prune');
  /** @type {Record<string, unknown>} */
  const policy = { selfHeal: checked('selfHeal') };
  if (choice('syncMode') === 'manual') policy.manual = true;
  for (const name of ['skipSchemaValidation', 'createNamespace', 'pruneLast', 'applyOutOfSyncOnly', 'replace'])
    if (checked(name)) policy[name] = true;
  policy.prunePropagationPolicy = choice('prunePropagationPolicy');
  spec.syncPolicy = policy;
  if (checked('imageEnabled')) {
    const kind = input('policyKind').value;
    /** @type {Record<string, unknown>} */
    const block = {
      image: value('image'),
      policy: { [kind]: kind === 'semver' ? { range: value('policyValue') } : { order: value('policyValue') } },
    };
    if (value('imageSecret')) block.secretRef = value('imageSecret');
    if (value('tagPattern') || value('tagExtract'))
      block.filterTags = {
        ...(value('tagPattern') ? { pattern: value('tagPattern') } : {}),
        ...(value('tagExtract') ? { extract: value('tagExtract') } : {}),
      };
    if (value('commitMessage')) block.commitMessage = value('commitMessage');
    spec.imageRepository = block;
  }
  return spec;
}

/** @param {Array<{ field: string, message: string }>} problems */
function showProblems(problems) {
  const first = showFieldProblems(form, problems);
  // The steps that hold a problem say so, so a problem on a step not shown is not missed.
  for (const [i, button] of [...steps.querySelectorAll('button')].entries()) {
    const count = pages[i]?.querySelectorAll('.field-problem').length ?? 0;
    button.classList.toggle('has-problem', count > 0);
    button.title = count > 0 ? `${count} problem${count === 1 ? '' : 's'} here` : '';
  }
  if (first) {
    show(pages.findIndex((p) => p.contains(first)));
    /** @type {HTMLElement | null} */ (first.querySelector('input, select, textarea'))?.focus();
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const create = /** @type {HTMLButtonElement} */ (document.getElementById('create'));
  create.disabled = true;
  say('Checking (server-side dry run)…');
  try {
    const body = {
      name: value('name'),
      namespace: value('namespace'),
      alias: value('alias'),
      description: value('description'),
      spec: specOf(),
    };
    const made = await api('POST', '/api/cds', body);
    showProblems([]);
    say(`Created ${made.namespace}/${made.name}.`);
    location.assign(cdPagePath(made.namespace, made.name));
  } catch (err) {
    if (err instanceof ApiError && err.problems.length > 0) {
      showProblems(err.problems);
      say(`Not created: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} to fix.`, true);
    } else {
      const refused = err instanceof ApiError && err.reason === 'Forbidden';
      const message = err instanceof Error ? err.message : String(err);
      say(`Not created: ${refused ? `Kubernetes refused: ${message}` : message}`, true);
    }
  } finally {
    create.disabled = false;
  }
});

/** @type {Map<string, any>} */
const repositories = new Map();
const picker = /** @type {HTMLSelectElement} */ (form.elements.namedItem('repository'));
// Picking an imported repository fills its URL, its Secret as the credential, and its namespace
// (the Secret must be in the deployment's own namespace).
picker.addEventListener('change', () => {
  const repo = repositories.get(picker.value);
  if (!repo) return;
  input('url').value = repo.url;
  input('secretRef').value = repo.credential === 'none' ? '' : repo.name;
  input('namespace').value = repo.namespace;
});
api('GET', '/api/repositories').then(
  (/** @type {any} */ body) => {
    for (const repo of body.repositories) repositories.set(`${repo.namespace}/${repo.name}`, repo);
    picker.append(...[...repositories.keys()].map((key) => el('option', { value: key }, `${key} — ${repositories.get(key).url}`)));
  },
  () => undefined,
);

show(0);
liveFeed({
  snapshot(data) {
    document.getElementById('scope')?.replaceChildren(data.scope.all ? 'All namespaces' : `Namespace ${data.scope.namespace}`);
    const namespaces = data.scope.all ? [...new Set(data.rows.map((/** @type {any} */ r) => r.namespace))].sort() : [data.scope.namespace];
    document.getElementById('namespaces')?.replaceChildren(...namespaces.map((ns) => el('option', { value: ns })));
    if (!data.scope.all && !value('namespace')) input('namespace').value = data.scope.namespace;
    document.body.dataset.live = 'synced';
  },
});
