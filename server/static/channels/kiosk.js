// The kiosk page (/kiosk/<unit>): citizens answer one after another on a tablet.
//
// - After each submission the thanks replace the form until the idle delay has passed; after a
//   minute without a touch a form left half-answered starts again.
// - When the network is down (or the server cannot store right now), the submission is kept in
//   this browser (IndexedDB: the exact bytes Web Forms produced, kept across restarts) and sent
//   when the network returns (the "online" event, and a retry timer), oldest first, one at a
//   time; an answer given while others wait joins the end of the queue. The server
//   acknowledges an identical resend of an instanceID without storing it twice, so sending
//   again is always safe.
// - A service worker keeps the page, the form and Web Forms for a start without the network.
import { message, mountForm, post, showStatus } from './webform.js';

const settings = document.getElementById('hl-form').dataset;
const HEADERS = { [settings.kioskHeader]: '1' };
const IDLE_MS = Number(settings.idleSeconds || 60) * 1000;
const RETRY_MS = Number(settings.retrySeconds || 20) * 1000;

// --- the outbox ------------------------------------------------------------------------------

const DB_NAME = 'hailong-kiosk';
const STORE = 'outbox';

function openOutbox() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key', autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const outbox = openOutbox();

async function inOutbox(mode, work) {
  const db = await outbox;
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

async function keep(formData) {
  const parts = [];
  for (const [name, value] of formData.entries()) {
    parts.push(typeof value === 'string' ? { name, value } : { name, value, filename: value.name });
  }
  await inOutbox('readwrite', (store) => store.add({
    url: settings.submitUrl, parts, keptAt: new Date().toISOString(), attempts: 0, refused: false,
  }));
}

function rebuild(parts) {
  const formData = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string') formData.append(part.name, part.value);
    else formData.append(part.name, part.value, part.filename);
  }
  return formData;
}

// Statuses worth another try later: no answer at all, the server busy or failing, the limit,
// or the kiosk not (yet again) recognised. Anything else is the server's final word: the entry
// stays in the outbox, marked, never deleted.
function worthRetrying(status) {
  return status === 0 || status === 403 || status === 408 || status === 429 || status >= 500;
}

let flushing = false;

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    const entries = await inOutbox('readonly', (store) => store.getAll());
    for (const entry of entries) {
      if (entry.refused) continue;
      const result = await post(entry.url, rebuild(entry.parts), HEADERS);
      if (result.status === 201) {
        await inOutbox('readwrite', (store) => store.delete(entry.key));
        continue;
      }
      entry.attempts += 1;
      entry.lastStatus = result.status;
      entry.lastMessage = result.body && result.body.message;
      entry.refused = !worthRetrying(result.status);
      await inOutbox('readwrite', (store) => store.put(entry));
      // answers go in the order they were given: the next waits for this one
      if (!entry.refused) break;
    }
  } catch (error) {
    console.warn('kiosk outbox:', error);
  } finally {
    flushing = false;
    await showOutbox();
  }
}

async function waitingCount() {
  const entries = await inOutbox('readonly', (store) => store.getAll());
  return entries.filter((e) => !e.refused).length;
}

async function showOutbox() {
  const line = document.getElementById('kiosk-queue');
  let entries = [];
  try {
    entries = await inOutbox('readonly', (store) => store.getAll());
  } catch (error) {
    return;
  }
  const waiting = entries.filter((e) => !e.refused).length;
  const refused = entries.length - waiting;
  const parts = [];
  if (waiting) parts.push(`${message('pending')}: ${waiting}`);
  if (refused) parts.push(`${message('stuck')}: ${refused}`);
  line.textContent = parts.join(' · ');
  line.dataset.waiting = String(waiting);
  line.dataset.refused = String(refused);
}

// --- the screen ------------------------------------------------------------------------------

// After an answer the form gives way to the thanks, which stays until the idle delay has passed
// (or "Bắt đầu lại" is pressed): the citizen who answered is not offered the form again.
const thanks = document.getElementById('kiosk-thanks');
const mount = document.getElementById('hl-form');
let thanksSince = null;

function showThanks(text, warn) {
  thanks.querySelector('p').textContent = text;
  thanks.classList.toggle('kiosk-thanks-warn', Boolean(warn));
  thanks.hidden = false;
  mount.hidden = true;
  thanksSince = Date.now();
}

function hideThanks() {
  thanks.hidden = true;
  mount.hidden = false;
  thanksSince = null;
}

let form = null;
let lastTouch = Date.now();
let touched = false;

function startAgain() {
  touched = false;
  showStatus('');
  window.scrollTo(0, 0);
}

// Keeps the answer in the outbox and clears the screen for the next citizen; false (answers
// left on screen) when the browser has no room to keep it.
async function keepAndThank(formData, done) {
  try {
    await keep(formData);
  } catch (error) {
    showStatus(message('offline'), 'error');
    done(false);
    return false;
  }
  done(true);
  startAgain();
  return true;
}

async function send(formData, done) {
  showStatus(message('sending'), 'info');
  let behind = 0;
  try { behind = await waitingCount(); } catch (error) { behind = 0; }
  if (behind > 0) {
    // earlier answers still wait: this one goes to the end of the queue, never before them
    if (!(await keepAndThank(formData, done))) return;
    await flush();
    const still = await waitingCount();
    showThanks(still ? message('queued') : message('thanks'), still > 0);
    return;
  }
  const result = await post(settings.submitUrl, formData, HEADERS);
  if (result.status === 201) {
    done(true);
    startAgain();
    showThanks((result.body && result.body.message) || message('thanks'));
    flush();
    return;
  }
  if (worthRetrying(result.status)) {
    if (!(await keepAndThank(formData, done))) return;
    showThanks(message('queued'), true);
    await showOutbox();
    return;
  }
  showStatus((result.body && result.body.message) || message('failed'), 'error');
  window.scrollTo(0, 0);
  done(false);
}

for (const kind of ['pointerdown', 'keydown', 'input', 'change']) {
  document.addEventListener(kind, () => { lastTouch = Date.now(); touched = true; }, { capture: true, passive: true });
}

setInterval(() => {
  if (thanksSince !== null && Date.now() - thanksSince >= IDLE_MS) {
    hideThanks();
    startAgain();
  } else if (form && touched && thanksSince === null && Date.now() - lastTouch >= IDLE_MS) {
    form.reset();
    startAgain();
  }
}, 1000);

document.getElementById('kiosk-restart').addEventListener('click', () => {
  if (form) form.reset();
  hideThanks();
  startAgain();
});

window.addEventListener('online', () => flush());
setInterval(() => flush(), RETRY_MS);
if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});

// --- working without the network -------------------------------------------------------------

// Web Forms reads the form and its attachments after mounting: the form is drawn once they are.
function formDrawn() {
  return new Promise((resolve) => {
    const check = () => (document.querySelector('#hl-form .question-container') ? resolve() : setTimeout(check, 250));
    check();
  });
}

// Once the form is on screen, everything this page loaded is handed to the service worker
// (static/channels/kiosk-sw.js), which keeps it for a start without the network.
async function keepForOffline() {
  const line = document.getElementById('kiosk-offline');
  if (!('serviceWorker' in navigator) || !line) return;
  await formDrawn();
  try {
    await navigator.serviceWorker.register(settings.serviceWorker, { scope: settings.serviceWorkerScope });
  } catch (error) {
    // already registered and the network is down: the registered worker still serves
  }
  const registration = await navigator.serviceWorker.ready;
  const urls = [window.location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
    .filter((url) => new URL(url).origin === window.location.origin && !url.includes('/submission'));
  const reply = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    registration.active.postMessage({ type: 'keep', urls }, [channel.port2]);
  });
  const ready = reply && reply.total > 0 && reply.kept === reply.total;
  line.textContent = ready ? message('offlineReady') : '';
  line.dataset.ready = ready ? '1' : '0';
}

try {
  form = await mountForm(send);
} catch (error) {
  showStatus(message('loadFailed'), 'error');
  throw error;
}
flush();
keepForOffline().catch((error) => console.warn('kiosk offline cache:', error));
