/**
 * The page a browser gets when it reaches the HTTP host without the access token: a plain
 * explanation of how to get in instead of the API's JSON 401. It never echoes a token (not the
 * right one, and not one the request carried), and it loads nothing: inline CSS is allowed by
 * the host's CSP (`style-src 'unsafe-inline'`), scripts are not needed.
 */
import type http from 'node:http';

/** Path of the public sign-in page (the UI sends a tab without a valid token here). */
export const SIGNIN_PATH = '/signin';

/**
 * Whether a request is a browser navigation that wants a page rather than an API client that
 * wants JSON: its Accept names text/html ahead of (or without) application/json. `fetch` and
 * API clients send `*\/*` or application/json and keep the JSON answer.
 */
export function wantsHtml(req: http.IncomingMessage): boolean {
  const accept = String(req.headers.accept ?? '').toLowerCase();
  const html = accept.indexOf('text/html');
  if (html < 0) return false;
  const json = accept.indexOf('application/json');
  return json < 0 || html < json;
}

/** The sign-in page's HTML. `reason` says why the browser landed here (a refused API request, or the UI). */
export function signinPage(reason: 'api' | 'page'): string {
  const why =
    reason === 'api'
      ? 'This address is part of the Cairn workbench API, which answers only requests that carry the access token.'
      : 'This browser tab has no valid access token for this Cairn workbench.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Cairn: sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;color:#1d2430;background:#f6f7f9;margin:0}
main{max-width:42rem;margin:10vh auto;padding:28px 32px;background:#fff;border:1px solid #d5dae1;border-radius:10px}
h1{font-size:20px;margin:0 0 12px}code{background:#eef1f4;padding:1px 5px;border-radius:4px;font-size:13.5px}
li{margin:6px 0}p.small{color:#4a5463;font-size:13.5px}
</style></head>
<body><main data-testid="signin">
<h1>Open the workbench with its access token</h1>
<p>${why}</p>
<ol>
<li>Find the terminal where <code>cairn serve</code> (or <code>npm start</code> without Electron) is running.
It printed a line <code>Cairn workbench: http://…/?token=…</code>: open that whole URL in this browser.</li>
<li>If it opened a browser for you, it did so through a private redirect file
(<code>…/cairn-open-…/open.html</code> in your temporary folder, readable only by you): opening that file works too.</li>
<li>The token changes every time <code>cairn serve</code> starts. After a restart, a tab opened before it
must be opened again from the new URL.</li>
</ol>
<p class="small">Reaching the server from another machine? Use an SSH tunnel
(<code>ssh -L 8080:127.0.0.1:8080 host</code>, then <code>cairn serve --port 8080</code> there) and open the printed URL locally.</p>
</main></body></html>
`;
}
