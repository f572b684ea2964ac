// The studio page: five panels behind keyboard-friendly tabs, all fed from the server's API.

import { get } from "./api.js";
import { initBuild } from "./build.js";
import { initCompare } from "./compare.js";
import { initConv } from "./conv.js";
import { initInspect } from "./inspect.js";
import { readState, writeState } from "./state.js";
import { initTrain } from "./train.js";

const PANELS = ["build", "conv", "train", "inspect", "compare"];

function show(panel, focus = false) {
  for (const name of PANELS) {
    const tab = document.getElementById(`tab-${name}`);
    const on = name === panel;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(`panel-${name}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  writeState({ panel });
}

// WAI-ARIA tabs pattern: arrow keys move between tabs, Home/End jump to the ends.
function initTabs() {
  const tabs = document.getElementById("tabs");
  tabs.addEventListener("click", (e) => {
    const tab = e.target.closest("[data-panel]");
    if (tab) show(tab.dataset.panel);
  });
  tabs.addEventListener("keydown", (e) => {
    const at = PANELS.indexOf(document.activeElement.dataset.panel);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: PANELS.length - 1 }[e.key];
    if (at < 0 || to === undefined) return;
    e.preventDefault();
    show(PANELS[(to + PANELS.length) % PANELS.length], true);
  });
  const wanted = readState().panel;
  show(PANELS.includes(wanted) ? wanted : "build");
}

function banner(message) {
  const p = document.getElementById("banner");
  p.textContent = message;
  p.hidden = false;
}

async function boot() {
  initTabs();
  let info;
  try {
    info = await get("/api/info");
  } catch (err) {
    banner(err.message);
    return;
  }
  document.getElementById("version").textContent = `convlens ${info.version}`;
  initBuild(info);
  initConv(info);
  initTrain(info);
  initInspect(info);
  initCompare(info);
  document.body.dataset.ready = "true";
}

boot();
