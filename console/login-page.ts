import type { ServerResponse } from 'node:http';
import type { LoginDecision } from './login-limit.ts';

/** A login the console refuses before asking the API server: the status, its headers and the words for the page. */
export interface LoginRefusal {
  status: 429 | 503;
  headers: Record<string, string>;
  message: string;
}

export function tooManyLogins(decision: LoginDecision & { allowed: false }): LoginRefusal {
  const seconds = Math.ceil(decision.retryAfterMs / 1000);
  const who = decision.scope === 'client' ? 'from your address' : 'on this console';
  return {
    status: 429,
    headers: { 'retry-after': String(seconds) },
    message: `Too many failed logins ${who}. Try again in ${waitWords(seconds)}.`,
  };
}

export function sessionsFull(): LoginRefusal {
  return {
    status: 503,
    headers: {},
    message: 'The console has as many sessions open as it allows. Try again when someone has logged out or their session has ended.',
  };
}

/**
 * The refusal as a page: the login form posts without script, so the browser shows this answer
 * itself. It is built from fixed words and a number only, so there is nothing to escape, and it
 * links back to the form.
 */
export function sendRefusal(res: ServerResponse, refusal: LoginRefusal): void {
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Log in · Tidemark</title>
    <link rel="stylesheet" href="/assets/style.css" />
  </head>
  <body>
    <header class="top"><span class="brand">Tidemark</span></header>
    <main>
      <h1>Log in</h1>
      <p id="problem" class="problem" role="alert">${refusal.message}</p>
      <p><a href="/login">Back to the log-in page</a></p>
    </main>
  </body>
</html>
`;
  res.writeHead(refusal.status, { ...refusal.headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
}

function waitWords(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
