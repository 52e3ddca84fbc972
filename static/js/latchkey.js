// Latchkey browser client: keeps the access token in this closure only (never a cookie, Web
// Storage or URL), gets it from the httpOnly refresh cookie via POST /auth/refresh, renews it
// before it expires, and loads protected fragments with it.
const client = (() => {
  let accessToken = null;
  let renewTimer = null;
  let inflight = null;
  let leaving = false;

  class SignedOut extends Error {}

  function toLogin() {
    if (leaving) return;
    leaving = true;
    accessToken = null;
    window.location.assign('/login');
  }

  async function requestRefresh() {
    const response = await fetch('/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-Latchkey-Refresh': '1' },
    });
    if (!response.ok) throw new SignedOut(`refresh refused: ${response.status}`);
    return response.json();
  }

  // Tabs of one browser share the refresh cookie: a Web Lock makes their refreshes take turns,
  // so each sends the newest cookie.
  function refreshAcrossTabs() {
    if (navigator.locks) return navigator.locks.request('latchkey-refresh', requestRefresh);
    return requestRefresh();
  }

  // Single flight: concurrent callers in this tab share one refresh.
  function refresh() {
    if (!inflight) {
      inflight = refreshAcrossTabs()
        .then((body) => {
          accessToken = body.access_token;
          schedule(body.expires_in);
          return body;
        })
        .finally(() => { inflight = null; });
    }
    return inflight;
  }

  // Renew ahead of expiry using the server's expires_in, not the client clock.
  function schedule(expiresIn) {
    clearTimeout(renewTimer);
    const lead = Math.min(60, Math.max(1, expiresIn * 0.2));
    renewTimer = setTimeout(() => { refresh().catch(toLogin); }, Math.max(1, expiresIn - lead) * 1000);
  }

  // fetch with the bearer token; after a 401, refresh once and retry once.
  async function authFetch(url, options = {}) {
    if (!accessToken) await refresh();
    const send = () => fetch(url, {
      ...options,
      credentials: 'same-origin',
      headers: { ...(options.headers || {}), Authorization: `Bearer ${accessToken}` },
    });
    let response = await send();
    if (response.status === 401) {
      await refresh();
      response = await send();
      if (response.status === 401) throw new SignedOut('still unauthorised after refresh');
    }
    return response;
  }

  return { refresh, authFetch, toLogin, SignedOut };
})();

async function loadFragment(target) {
  const response = await client.authFetch(target.dataset.fragment);
  if (!response.ok) throw new Error(`fragment: ${response.status}`);
  target.innerHTML = await response.text();
  const email = target.querySelector('#account-email');
  const nav = document.getElementById('nav-email');
  if (email && nav) nav.textContent = email.textContent;
}

async function start() {
  const targets = [...document.querySelectorAll('[data-fragment]')];
  if (targets.length === 0) return;
  try {
    await client.refresh();
    await Promise.all(targets.map(loadFragment));
  } catch (error) {
    if (error instanceof client.SignedOut) client.toLogin();
    else targets.forEach((t) => { t.textContent = 'Could not load this page. Reload to try again.'; });
  }
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-revoke]');
    if (!button) return;
    button.disabled = true;
    try {
      await client.authFetch(button.dataset.revoke, { method: 'DELETE' });
      await Promise.all(targets.map(loadFragment));
    } catch (error) {
      if (error instanceof client.SignedOut) client.toLogin();
    }
  });
}

start();
