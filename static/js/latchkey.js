// Latchkey browser client, loaded by every protected page shell.
//
// The access token lives only in this module's closure: never in a cookie, Web Storage or a URL.
// It comes from POST /auth/refresh, which the browser authenticates with the httpOnly refresh
// cookie (scoped to /auth, invisible to scripts). Page content is HTML fetched with the token.

const RENEW_LEAD_MAX_SECONDS = 60;

class SignedOut extends Error {}

const client = (() => {
  let accessToken = null;
  let user = null;
  // When to renew, on the monotonic clock: derived from the server's expires_in, so a wrong
  // system clock cannot make the page use an expired token or renew too late.
  let renewAt = 0;
  let renewTimer = null;
  let inflight = null;
  let leaving = false;
  const listeners = [];

  function toLogin() {
    if (leaving) return;
    leaving = true;
    accessToken = null;
    clearTimeout(renewTimer);
    window.location.assign('/login');
  }

  async function requestRefresh() {
    const response = await fetch('/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'X-Latchkey-Refresh': '1' },
    });
    if (response.status === 401 || response.status === 403) {
      throw new SignedOut(`refresh refused (${response.status})`);
    }
    if (!response.ok) throw new Error(`refresh failed (${response.status})`);
    return response.json();
  }

  // Tabs of one browser share the refresh cookie. A Web Lock makes their refreshes take turns, so
  // each sends the newest cookie and none is mistaken for a replayed token. (Without Web Locks the
  // server's grace window absorbs the race.)
  function refreshAcrossTabs() {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request('latchkey-refresh', requestRefresh);
    }
    return requestRefresh();
  }

  function schedule(expiresIn) {
    const lead = Math.min(RENEW_LEAD_MAX_SECONDS, Math.max(1, expiresIn * 0.2));
    const delay = Math.max(1, expiresIn - lead) * 1000;
    renewAt = performance.now() + delay;
    clearTimeout(renewTimer);
    renewTimer = setTimeout(() => {
      refresh().catch((error) => { if (error instanceof SignedOut) toLogin(); });
    }, delay);
  }

  // Single flight: every caller in this tab shares the refresh in progress.
  function refresh() {
    if (!inflight) {
      inflight = refreshAcrossTabs()
        .then((body) => {
          accessToken = body.access_token;
          user = body.user;
          schedule(body.expires_in);
          listeners.forEach((listener) => listener(user));
          return body;
        })
        .finally(() => { inflight = null; });
    }
    return inflight;
  }

  async function token() {
    if (!accessToken || performance.now() >= renewAt) await refresh();
    return accessToken;
  }

  // fetch with the bearer token. After a 401 it refreshes once and retries once; a second 401
  // means the session is gone.
  async function authFetch(url, options = {}) {
    const send = (bearer) => fetch(url, {
      ...options,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { ...(options.headers || {}), Authorization: `Bearer ${bearer}` },
    });
    let response = await send(await token());
    if (response.status === 401) {
      await refresh();
      response = await send(accessToken);
      if (response.status === 401) throw new SignedOut('unauthorised after a refresh');
    }
    return response;
  }

  function onUser(listener) {
    listeners.push(listener);
    if (user) listener(user);
  }

  // A tab woken from sleep may hold an expired token and a lapsed timer.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && accessToken && performance.now() >= renewAt) {
      refresh().catch((error) => { if (error instanceof SignedOut) toLogin(); });
    }
  });

  return { refresh, authFetch, onUser, toLogin };
})();

function showUser(user) {
  const email = document.getElementById('nav-email');
  if (email) email.textContent = user.email;
  document.querySelectorAll('[data-admin-link]').forEach((link) => {
    link.hidden = user.role !== 'admin';
  });
}

function swap(container, html) {
  container.innerHTML = html;
  const flash = container.querySelector('[data-flash]');
  if (flash) flash.focus();
}

async function fill(container, response) {
  const type = response.headers.get('content-type') || '';
  if (type.startsWith('text/html')) {
    swap(container, await response.text());
  } else {
    container.textContent = `Something went wrong (${response.status}). Reload to try again.`;
  }
}

async function load(container) {
  const response = await client.authFetch(container.dataset.fragment + window.location.search);
  await fill(container, response);
}

function failed(error, container) {
  if (error instanceof SignedOut) {
    client.toLogin();
  } else {
    container.textContent = 'Could not reach the server. Reload to try again.';
  }
}

// Forms inside fragments post with the bearer token and swap in the HTML that comes back.
async function submitWithBearer(event) {
  const form = event.target.closest('form[data-bearer]');
  if (!form) return;
  event.preventDefault();
  const container = form.closest('[data-fragment]');
  const buttons = form.querySelectorAll('button');
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const response = await client.authFetch(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)),
    });
    await fill(container, response);
  } catch (error) {
    failed(error, container);
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

async function start() {
  const containers = [...document.querySelectorAll('[data-fragment]')];
  if (containers.length === 0) return;
  client.onUser(showUser);
  document.addEventListener('submit', submitWithBearer);
  try {
    await client.refresh();
  } catch (error) {
    failed(error, containers[0]);
    return;
  }
  await Promise.all(containers.map((container) => load(container).catch((error) => failed(error, container))));
}

start();
