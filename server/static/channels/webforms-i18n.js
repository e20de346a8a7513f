// Web Forms 0.22 speaks English only and has no translation hook of its own, so its words are
// supplied here from one file a translator edits (i18n/webforms.<lang>.json):
//   - PrimeVue, the component kit inside Web Forms, reads its words (calendar, empty lists, aria
//     labels) from a reactive locale object: those are set there, the library's own mechanism;
//   - the rest is written into Web Forms' templates; a MutationObserver puts the translation in
//     place of every text node and label attribute that equals one of those English strings, as
//     soon as Vue writes it (and again whenever Vue rewrites it).
// Only exact whole strings (trimmed) and the listed number patterns are replaced, so questions
// and answers coming from the form itself are never touched.

const ATTRIBUTES = ['aria-label', 'placeholder', 'title', 'alt'];

export async function loadStrings(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error('translations: HTTP ' + response.status);
  return response.json();
}

// "{n}" stands for a number, any other "{name}" for some text (a file name, say).
function patternsOf(strings) {
  return Object.entries(strings.patterns || {}).map(([english, local]) => {
    const names = [];
    const source = english.split(/(\{[a-z]+\})/).map((part) => {
      const slot = part.match(/^\{([a-z]+)\}$/);
      if (!slot) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(slot[1]);
      return slot[1] === 'n' ? '(\\d+)' : '(.+?)';
    }).join('');
    return { match: new RegExp('^' + source + '$'), names, local };
  });
}

export function translator(strings) {
  const text = new Map(Object.entries(strings.text || {}));
  const patterns = patternsOf(strings);
  return function translate(value) {
    const trimmed = value.trim();
    if (!trimmed) return null;
    let local = text.get(trimmed);
    if (local === undefined) {
      for (const pattern of patterns) {
        const found = trimmed.match(pattern.match);
        if (found) {
          local = pattern.names.reduce((text, name, i) => text.split('{' + name + '}').join(found[i + 1]), pattern.local);
          break;
        }
      }
    }
    if (local === undefined) return null;
    // keep the spacing around the words: Vue writes " Add " beside an icon
    const start = value.indexOf(trimmed);
    return value.slice(0, start) + local + value.slice(start + trimmed.length);
  };
}

function translateNode(node, translate) {
  if (node.nodeType === Node.TEXT_NODE) {
    const local = translate(node.nodeValue);
    if (local !== null && local !== node.nodeValue) node.nodeValue = local;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  for (const name of ATTRIBUTES) {
    const value = node.getAttribute(name);
    if (value === null) continue;
    const local = translate(value);
    if (local !== null && local !== value) node.setAttribute(name, local);
  }
}

function translateTree(root, translate) {
  translateNode(root, translate);
  if (root.nodeType !== Node.ELEMENT_NODE && root.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) translateNode(node, translate);
}

// Watches `root` (the whole body: PrimeVue puts dialogs and drop-down panels at its end).
export function translateDom(root, strings) {
  const translate = translator(strings);
  translateTree(root, translate);
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'childList') record.addedNodes.forEach((node) => translateTree(node, translate));
      else translateNode(record.target, translate);
    }
  });
  observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES });
  return observer;
}

// PrimeVue's locale is one reactive object; the translation is merged in, so a key the file
// lacks keeps its (English) value rather than vanishing.
export function localisePrimeVue(app, strings) {
  const primevue = app.config.globalProperties.$primevue;
  if (!primevue || !strings.primevue) return;
  const { aria, ...rest } = strings.primevue;
  Object.assign(primevue.config.locale, rest);
  if (aria) primevue.config.locale.aria = { ...primevue.config.locale.aria, ...aria };
}
