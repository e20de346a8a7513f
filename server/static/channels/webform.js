// ODK Web Forms in a plain page: load it, mount the form, hand every submission to the page.
//
// The page gives its settings as data-* attributes on the mount element (#hl-form):
//   data-web-forms   URL of Web Forms' entry module (served from node_modules by our server)
//   data-form-url    the form definition, with the link's values already filled in
//   data-media-url   prefix of the form's attachments (units.csv ...)
//   data-style-nonce this response's CSP nonce for the <style> elements Web Forms adds
//   data-device-id   optional: what the form's deviceid field records (kiosks)
//   data-i18n-url    optional: Web Forms' own words in the page's language (webforms-i18n.js);
//                    absent in English, Web Forms' own language

import { nameUnnamedFields } from './webforms-a11y.js';
import { loadStrings, localisePrimeVue, translateDom } from './webforms-i18n.js';

const settings = document.getElementById('hl-form').dataset;

// Web Forms and PrimeVue add <style> elements as components appear, with text that varies, so
// the page's CSP allows styles carrying this response's nonce and every <style> made here gets it.
function giveStylesTheNonce(nonce) {
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(tag, options) {
    const element = create.call(this, tag, options);
    if (typeof tag === 'string' && tag.toLowerCase() === 'style') element.nonce = nonce;
    return element;
  };
}

export function message(name) {
  return settings['msg' + name.charAt(0).toUpperCase() + name.slice(1)] || '';
}

export function showStatus(text, kind) {
  const box = document.getElementById('hl-status');
  if (!box) return;
  box.textContent = text || '';
  box.className = 'hl-status' + (kind ? ' hl-status-' + kind : '');
  box.hidden = !text;
}

// Attachments are kept once fetched, so a form reset (kiosk) works with the network down.
function attachmentFetcher(prefix) {
  const kept = new Map();
  return async function fetchFormAttachment(url) {
    const name = String(url).split('/').pop();
    if (!kept.has(name)) {
      const response = await fetch(prefix + encodeURIComponent(name), { credentials: 'same-origin' });
      if (!response.ok) return response;
      kept.set(name, { body: await response.arrayBuffer(), type: response.headers.get('Content-Type') || '' });
    }
    const file = kept.get(name);
    return new Response(file.body.slice(0), { status: 200, headers: { 'Content-Type': file.type } });
  };
}

// Mounts the form; `onSubmit(formData, done)` gets Web Forms' FormData (xml_submission_file and
// the attachments) and must call done(true) to start a new blank instance, done(false) to keep
// the answers on screen. Returns { reset() } to start over without reloading the page.
export async function mountForm(onSubmit) {
  giveStylesTheNonce(settings.styleNonce);
  const [vue, webForms, strings] = await Promise.all([
    import('vue'), import(settings.webForms), settings.i18nUrl ? loadStrings(settings.i18nUrl) : null]);
  const response = await fetch(settings.formUrl, { credentials: 'same-origin' });
  if (!response.ok) throw new Error('form definition: HTTP ' + response.status);
  const formXml = await response.text();
  const fetchFormAttachment = attachmentFetcher(settings.mediaUrl);
  const preloadProperties = settings.deviceId ? { deviceID: settings.deviceId } : undefined;
  const generation = vue.ref(0);

  function handleSubmit(payload, callback) {
    const formData = payload && payload.data && payload.data[0];
    if (!formData || (payload.status && payload.status !== 'ready')) {
      callback();
      return;
    }
    onSubmit(formData, (fresh) => callback(fresh ? { next: webForms.POST_SUBMIT__NEW_INSTANCE } : undefined));
  }

  const app = vue.createApp({
    render: () => vue.h(webForms.OdkWebForm, {
      key: generation.value, formXml, fetchFormAttachment, preloadProperties, onSubmit: handleSubmit,
    }),
  });
  app.use(webForms.webFormsPlugin);
  if (strings) {
    localisePrimeVue(app, strings);
    translateDom(document.body, strings);
  }
  app.mount(document.getElementById('hl-form'));
  nameUnnamedFields(document.getElementById('hl-form'));
  return {
    reset() { generation.value += 1; },
    unmount() { app.unmount(); },
  };
}

// POSTs a FormData; resolves to { status, body } (body: the server's JSON, or null), or
// { status: 0 } when the request never got an answer (network down).
export async function post(url, formData, headers) {
  let response;
  try {
    response = await fetch(url, { method: 'POST', body: formData, credentials: 'same-origin', headers: headers || {} });
  } catch (error) {
    return { status: 0, body: null };
  }
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  return { status: response.status, body };
}
