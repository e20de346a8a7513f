// The kiosk's service worker (served as /kiosk/sw.js, so its scope /kiosk/ covers every kiosk
// page): a kiosk that has been online once starts, shows its form and keeps answers with no
// network at all, after a reboot too.
//
// - The kiosk page, once its form is on screen, sends the list of everything it loaded (the
//   page, the form definition, its attachments, Web Forms, Vue, styles, fonts, translations);
//   each is fetched again and kept in the cache, and the page is told how many are kept.
// - GET requests of a kiosk page go to the network first and fall back to the cache when the
//   network fails or is too slow; what is in the cache is refreshed by every answer.
// - Submissions (POST) are never touched: kiosk.js keeps them in IndexedDB until sent.
// - A page served from the cache gets a new CSP nonce: the one in the kept copy was meant for
//   a single response.

const CACHE = 'hailong-kiosk-v1';
const NETWORK_TIMEOUT_MS = 8000;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function keep(url) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-cache' });
    if (response.ok && response.type === 'basic') {
      await cache.put(url, response);
      return true;
    }
  } catch (error) {
    // offline: what was kept before still serves
  }
  return Boolean(await cache.match(url, { ignoreVary: true }));
}

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type !== 'keep' || !Array.isArray(data.urls)) return;
  const origin = self.location.origin;
  const urls = [...new Set(data.urls)].filter((url) => new URL(url, origin).origin === origin);
  event.waitUntil((async () => {
    const kept = await Promise.all(urls.map(keep));
    const port = event.ports && event.ports[0];
    if (port) port.postMessage({ kept: kept.filter(Boolean).length, total: urls.length });
  })());
});

function withTimeout(request) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), NETWORK_TIMEOUT_MS);
  return fetch(request, { signal: controller.signal }).finally(() => clearTimeout(timer));
}

function newNonce() {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function freshNonce(response) {
  const policy = response.headers.get('Content-Security-Policy') || '';
  const found = policy.match(/'nonce-([A-Za-z0-9_-]+)'/);
  if (!found) return response;
  const nonce = newNonce();
  const body = (await response.text()).split(found[1]).join(nonce);
  const headers = new Headers(response.headers);
  headers.set('Content-Security-Policy', policy.split(found[1]).join(nonce));
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(request);
    if (response.ok && response.type === 'basic' && (await cache.match(request, { ignoreVary: true }))) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (!kept) throw error;
    return request.mode === 'navigate' ? freshNonce(kept) : kept;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(request));
});
