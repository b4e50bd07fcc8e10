// The login page's one job beyond the form: say why the last attempt failed (the server redirects
// with ?failed=…, as the page carries no inline script and the token must not come back in it).
const failed = new URLSearchParams(location.search).get('failed');
const problem = document.getElementById('problem');
if (failed && problem) {
  problem.textContent =
    failed === 'namespace'
      ? 'That is not a namespace name.'
      : 'The Kubernetes API server did not accept this token. Check that it is current and try again.';
  problem.hidden = false;
}
