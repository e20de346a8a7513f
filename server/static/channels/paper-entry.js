// Entering a returned paper sheet: the clerk fills the same form the citizen ticked; the
// answer is stored with channel "paper" under the sheet's number.
import { message, mountForm, post, showStatus } from './webform.js';

const mount = document.getElementById('hl-form');
const settings = mount.dataset;
let form = null;

async function send(formData, done) {
  showStatus(message('sending'), 'info');
  const result = await post(settings.submitUrl, formData, { 'X-CSRF-Token': settings.csrf });
  const text = (result.body && result.body.message) || (result.status === 0 ? message('offline') : message('failed'));
  window.scrollTo(0, 0);
  if (result.status === 201 || result.status === 200 || result.status === 202) {
    // the sheet is dealt with (stored, identical, or flagged): on to the next one
    showStatus(text, result.status === 202 ? 'warn' : 'ok');
    done(false);
    form.unmount();
    mount.hidden = true;
    const next = document.getElementById('sheet');
    next.value = String(Number(settings.sheet) + 1);
    next.focus();
    return;
  }
  showStatus(text, 'error');
  done(false);
}

try {
  form = await mountForm(send);
} catch (error) {
  showStatus(message('loadFailed'), 'error');
  throw error;
}
