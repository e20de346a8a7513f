// The export job's page: ask the server how far the job got until the file is ready. The state
// is read from the job's file on the server, so any gunicorn worker can answer.
const box = document.getElementById("export-job");
const bar = document.getElementById("job-progress");
const counter = document.getElementById("job-count");
const number = new Intl.NumberFormat(document.documentElement.lang === "en" ? "en-GB" : "vi-VN");

function show(state) {
  for (const name of ["running", "done", "failed"]) {
    for (const el of box.querySelectorAll(`.job-${name}`)) el.hidden = state.state !== name;
  }
  bar.max = Math.max(state.total, 1);
  bar.value = state.state === "done" ? bar.max : state.done;
  counter.textContent = `${number.format(state.done)} / ${number.format(state.total)}`;
  box.dataset.state = state.state;
}

async function poll() {
  try {
    const response = await fetch(box.dataset.stateUrl, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const state = await response.json();
      show(state);
      if (state.state !== "running") return;
    }
  } catch (error) {
    // a dropped request: try again at the next tick
  }
  setTimeout(poll, 700);
}

if (box && box.dataset.state === "running") poll();
