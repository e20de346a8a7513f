// The public link page (/f/<form_id>): a citizen answers and sends; the answer goes to our
// receiving endpoint, which stores it with channel "online". Once stored, the page is replaced
// by the thank-you page (data-thanks-url), so the back button does not lead to a blank form.
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
    done(false);
    form.unmount();
    mount.hidden = true;
    window.location.replace(mount.dataset.thanksUrl);
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
