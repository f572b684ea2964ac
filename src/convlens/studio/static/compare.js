// Panel 5, Compare and export: two runs side by side, and the four exports of a run or spec.

import { download, get } from "./api.js";
import { fmt, lineChart, round } from "./draw.js";
import { current, readState, subscribe, writeState } from "./state.js";
import { epochRecord } from "./train.js";

const $ = (id) => document.getElementById(id);
const pct = (v) => (typeof v === "number" ? `${(100 * v).toFixed(1)}%` : "");
const COLOURS = { a: "#2f6fde", b: "#e0622a" };

const best = (history, field) => {
  const values = history.map((r) => r[field]).filter((v) => typeof v === "number");
  return values.length ? Math.max(...values) : null;
};
const last = (history, field) => {
  for (let i = history.length - 1; i >= 0; i--) if (typeof history[i][field] === "number") return history[i][field];
  return null;
};

// The comparison table: row header, how to read one run's detail.
const ROWS = [
  ["model", (d) => d.model || d.spec || (d.config && d.config.model)],
  ["data", (d) => d.config && d.config.data],
  ["epochs", (d) => round(last(d.history, "epoch"), 2)],
  ["best val acc", (d) => pct(best(d.history, "val_acc"))],
  ["final val loss", (d) => round(last(d.history, "val_loss"), 4)],
  ["params", (d) => fmt(d.params)],
  ["MACs", (d) => fmt(d.macs)],
  ["optimizer", (d) => d.config && d.config.optimizer],
  ["lr", (d) => d.config && d.config.lr],
  ["batch size", (d) => d.config && d.config.batch_size],
];

function showError(message) {
  $("cmp-error").textContent = message;
  $("cmp-error").hidden = !message;
}

async function compare() {
  const [a, b] = [$("cmp-a").value, $("cmp-b").value];
  if (!a || !b) return showError("Pick two runs to compare.");
  writeState({ a, b });
  showError("");
  let answer;
  try {
    answer = await get("/api/compare", { a, b });
  } catch (err) {
    return showError(err.message);
  }
  const curve = (key, field, dashed) => ({
    label: `${key.toUpperCase()} ${field.replace("_", " ")}`,
    colour: COLOURS[key],
    dashed,
    points: answer[key].history.map(epochRecord).map((r) => [r.epoch, r[field]]),
  });
  lineChart($("cmp-loss"), { title: "loss (dashed: train)", series: [curve("a", "val_loss"), curve("a", "train_loss", true), curve("b", "val_loss"), curve("b", "train_loss", true)] });
  lineChart($("cmp-acc"), { title: "accuracy (dashed: train)", series: [curve("a", "val_acc"), curve("a", "train_acc", true), curve("b", "val_acc"), curve("b", "train_acc", true)] });
  const table = $("cmp-table");
  table.innerHTML = `<thead><tr><th></th><th scope="col">A: ${escape(a)}</th><th scope="col">B: ${escape(b)}</th></tr></thead>`;
  const body = table.createTBody();
  for (const [name, read] of ROWS) {
    const tr = body.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = read(answer.a) ?? "";
    tr.insertCell().textContent = read(answer.b) ?? "";
  }
}

const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function fillRuns(runs) {
  const state = readState();
  for (const [id, key, fallback] of [["cmp-a", "a", 0], ["cmp-b", "b", 1], ["export-source", null, 0]]) {
    const select = $(id);
    const keep = select.value || (key && state[key]) || "";
    const options = id === "export-source" ? [new Option("the Build panel's spec", "")] : [];
    for (const r of runs) options.push(new Option(`${r.run} (${r.model})`, r.run));
    select.replaceChildren(...options);
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    else if (key && runs[fallback]) select.value = runs[fallback].run;
  }
  // two different runs when there are two
  if ($("cmp-a").value === $("cmp-b").value && runs.length > 1) {
    $("cmp-b").value = runs.find((r) => r.run !== $("cmp-a").value).run;
  }
}

async function exportAs(format) {
  const run = $("export-source").value;
  const m = current("model") || {};
  const spec = m.model ? { model: m.model } : { spec: m.canonical || m.spec };
  const body = run ? { run, format } : { ...spec, input: m.input, format };
  $("export-status").textContent = "preparing…";
  try {
    const { name, size } = await download("/api/export", body);
    $("export-status").textContent = `saved ${name} (${fmt(size)} bytes)`;
  } catch (err) {
    $("export-status").textContent = err.message;
  }
}

export function initCompare() {
  $("cmp-go").addEventListener("click", compare);
  for (const button of document.querySelectorAll("#panel-compare [data-format]")) {
    button.addEventListener("click", () => exportAs(button.dataset.format));
  }
  subscribe("runs", fillRuns);
  lineChart($("cmp-loss"), { title: "loss", series: [] });
  lineChart($("cmp-acc"), { title: "accuracy", series: [] });
}
