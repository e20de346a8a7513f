// The activation link may carry the kiosk code after '#', which never reaches the server or
// its logs; it only fills the field, an administrator still presses the button.
const field = document.getElementById('token');
const code = decodeURIComponent(window.location.hash.replace(/^#/, ''));
if (field && code) {
  field.value = code;
  history.replaceState(null, '', window.location.pathname + window.location.search);
}
