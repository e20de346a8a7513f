// The public link page (/f/<form_id>): a citizen answers and sends; the answer goes to our
// receiving endpoint, which stores it with channel "online".
import { message, mountForm, post, showStatus } from './webform.js';

const mount = document.getElementById('hl-form');
const honeypot = document.getElementById('hl_website');
let form = null;

async function send(formData, done) {
  // the hidden field goes with the answers: a person leaves it empty, a form-filling bot does not
  formData.append('hl_website', honeypot ? honeypot.value : '');
  showStatus(message('sending'), 'info');
  const result = await post(mount.dataset.submitUrl, formData);
  if (result.status === 201) {
    showStatus((result.body && result.body.message) || message('thanks'), 'ok');
    window.scrollTo(0, 0);
    if (mount.dataset.single === '1') {
      // a dossier is rated once: what is left on screen is the thanks, not a new blank form
      done(false);
      form.unmount();
      mount.hidden = true;
      return;
    }
    done(true);
    return;
  }
  if (result.status === 0) {
    showStatus(message('offline'), 'error');
  } else {
    showStatus((result.body && result.body.message) || message('failed'), 'error');
  }
  window.scrollTo(0, 0);
  done(false);
}

try {
  form = await mountForm(send);
} catch (error) {
  showStatus(message('loadFailed'), 'error');
  throw error;
}
