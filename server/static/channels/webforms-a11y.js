// Names for Web Forms 0.22's fields that arrive without one. Its number, date and time inputs
// and its drop-down lists (PrimeVue) carry their own generated ids, so the question's
// <label for> does not reach them and a screen reader announces an unnamed field. Each such
// field is tied to its question's label with aria-labelledby, as soon as Vue draws it. The
// menu button of a repeat (an icon alone) gets the English name "Options", which the
// translation layer (webforms-i18n.js) turns into the page's language like Web Forms' words.

const FIELDS = 'input:not([type="hidden"]), textarea, select, [role="combobox"], [role="spinbutton"], [role="listbox"]';

function named(field) {
  if (field.getAttribute('aria-label') || field.getAttribute('aria-labelledby')) return true;
  return Boolean(field.labels && field.labels.length);
}

let counter = 0;

function nameFields(root) {
  for (const button of root.querySelectorAll('button.button-menu:not([aria-label])')) {
    if (!button.textContent.trim()) button.setAttribute('aria-label', 'Options');
  }
  for (const field of root.querySelectorAll(FIELDS)) {
    if (named(field) || field.closest('[aria-hidden="true"]')) continue;
    const question = field.closest('.question-container');
    const label = question && question.querySelector('label');
    if (!label || !label.textContent.trim()) continue;
    if (!label.id) { counter += 1; label.id = 'hl-question-label-' + counter; }
    field.setAttribute('aria-labelledby', label.id);
  }
}

export function nameUnnamedFields(root) {
  nameFields(root);
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; nameFields(root); });
  }).observe(root, { subtree: true, childList: true });
}
