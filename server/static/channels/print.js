// The print button of printable pages (inline handlers are blocked by the CSP).
const button = document.getElementById('print-button');
if (button) button.addEventListener('click', () => window.print());
