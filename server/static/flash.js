// The message after an action is shown where the user is looking. A page that returns to a
// control (the address's #anchor, e.g. one follow-up row far down the dashboard) would otherwise
// scroll to the control and leave the message thousands of pixels above, out of sight.
const flashes = document.querySelector(".flashes");
const id = decodeURIComponent(location.hash.slice(1));
const target = flashes && id ? document.getElementById(id) : null;
if (target) {
  // inside a table row, the message goes into the cell holding the row's form
  const home = target.tagName === "TR"
    ? (target.querySelector("form")?.closest("td") ?? target.cells[target.cells.length - 1])
    : target;
  flashes.classList.add("flashes-here");
  home.prepend(flashes);
  flashes.setAttribute("tabindex", "-1");
  flashes.scrollIntoView({ block: "center" });
  flashes.focus({ preventScroll: true });
}
