// Panel 3, Train live: start a run (an ordinary run directory), or follow any run under the runs
// folder through its event stream; curves, confusion matrix, per-class accuracy and the first
// layer's filters redraw as the events arrive.

import { events, get, post } from "./api.js";
import { barList, fmt, lineChart, paintConfusion, paintFilters, round } from "./draw.js";
import { publish, readState, subscribe, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);
const pct = (v) => (typeof v === "number" ? `${(100 * v).toFixed(1)}%` : "");

// The epochs table: header, field of the epoch record, how to show it. A regression run's records
// hold an RMSE where a classifier's hold an accuracy (`--task regression`).
const score = (regression) => (regression
  ? { name: "RMSE", train: "train_rmse", val: "val_rmse", show: (v) => round(v, 4) }
  : { name: "acc", train: "train_acc", val: "val_acc", show: pct });
const epochColumns = (regression) => {
  const s = score(regression);
  return [
    ["epoch", "epoch", (v) => round(v, 2)],
    ["train loss", "train_loss", (v) => round(v, 4)],
    [`train ${s.name}`, s.train, s.show],
    ["val loss", "val_loss", (v) => round(v, 4)],
    [`val ${s.name}`, s.val, s.show],
    ["lr", "lr", (v) => round(v, 5)],
    ["images/s", "images_per_s", (v) => fmt(Math.round(v))],
  ];
};
const isRegression = (record) => record.rmse !== undefined || record.val_rmse !== undefined;

// A run's metrics.jsonl names the training loss and score `loss` and `acc` (or `rmse`); the page
// calls them train_loss and train_acc (train_rmse) beside val_loss and val_acc (val_rmse).
export const epochRecord = (r) => ({
  ...r,
  train_loss: r.train_loss ?? r.loss,
  train_acc: r.train_acc ?? r.acc,
  train_rmse: r.train_rmse ?? r.rmse,
});

let stream = null;
let run = null;
let classes = [];
let series = null;
let redrawPending = false;

function emptySeries() {
  return { steps: [], epochs: [], lastStep: null };
}

function setStatus(text) {
  $("train-status").textContent = text;
  $("train-status").dataset.state = text.split(" ")[0];
}

function showError(message) {
  $("train-error").textContent = message;
  $("train-error").hidden = !message;
}

// remarks about the model made as training starts (a softmax before the loss, unused outputs)
function showNote(text) {
  const notes = $("train-notes");
  if (!text) {
    notes.replaceChildren();
    notes.hidden = true;
    return;
  }
  const line = document.createElement("span");
  line.textContent = `Note: ${text}.`;
  notes.append(line, document.createElement("br"));
  notes.hidden = false;
}

// Steps are drawn against the step count; epochs at the step where they ended (or, for a run
// followed from its log alone, against the epoch number).
function redraw() {
  redrawPending = false;
  const { steps, epochs } = series;
  const byStep = steps.length > 0;
  const xLabel = byStep ? "step" : "epoch";
  const ex = (e) => (byStep ? e.atStep : e.epoch);
  const line = (label, rows, x, y, extra = {}) => ({ label, points: rows.map((r) => [x(r), y(r)]), ...extra });
  lineChart($("chart-loss"), {
    title: "loss", xLabel,
    series: [
      line("batch", steps, (s) => s.step, (s) => s.loss, { colour: "#b8c7e8" }),
      line("train", epochs, ex, (e) => e.train_loss, { colour: "#2f6fde" }),
      line("val", epochs, ex, (e) => e.val_loss, { colour: "#e0622a" }),
    ],
  });
  const regression = epochs.some(isRegression) || steps.some((s) => s.rmse !== undefined);
  const s = score(regression);
  lineChart($("chart-acc"), {
    title: regression ? "RMSE" : "accuracy", xLabel,
    series: [
      line("batch", steps, (st) => st.step, (st) => (regression ? st.rmse : st.accuracy), { colour: "#b8c7e8" }),
      line("train", epochs, ex, (e) => e[s.train], { colour: "#2f6fde" }),
      line("val", epochs, ex, (e) => e[s.val], { colour: "#e0622a" }),
    ],
  });
  lineChart($("chart-lr"), {
    title: "learning rate", xLabel,
    series: [byStep ? line("lr", steps, (s) => s.step, (s) => s.lr) : line("lr", epochs, ex, (e) => e.lr)],
  });
  lineChart($("chart-speed"), {
    title: "images / s", xLabel,
    series: [byStep ? line("images/s", steps, (s) => s.step, (s) => s.images_per_s, { colour: "#2e9d5b" })
      : line("images/s", epochs, ex, (e) => e.images_per_s, { colour: "#2e9d5b" })],
  });
}

function scheduleRedraw() {
  if (!redrawPending) {
    redrawPending = true;
    requestAnimationFrame(redraw);
  }
}

function addEpochRow(record) {
  const table = $("epochs");
  const columns = epochColumns(isRegression(record));
  if (!table.tHead) {
    table.createTHead().innerHTML = "<tr>" + columns.map(([h]) => `<th scope="col">${h}</th>`).join("") + "</tr>";
    table.createTBody();
  }
  const tr = document.createElement("tr");
  for (const [, field, show] of columns) {
    const td = document.createElement("td");
    td.dataset.field = field;
    td.dataset.value = record[field] ?? "";
    td.textContent = record[field] === undefined || record[field] === null ? "" : show(record[field]);
    tr.append(td);
  }
  table.tBodies[0].append(tr);
}

function onEpoch(record) {
  series.epochs.push({ ...record, atStep: series.lastStep ?? record.epoch });
  addEpochRow(record);
  if (record.confusion) {
    paintConfusion($("confusion"), record.confusion);
    const on = record.confusion_examples ? `, ${fmt(record.confusion_examples)} test examples` : "";
    $("confusion-caption").textContent = `confusion matrix${on} (rows: true, columns: predicted)`;
  }
  if (record.per_class) barList($("per-class"), record.per_class.map((v, i) => ({ label: classes[i] ?? String(i), value: v })));
  if (record.filters) {
    paintFilters($("filters"), record.filters);
    $("filters-caption").textContent = `first-layer filters, epoch ${round(record.epoch, 2)} (${record.filters.shape.join("×")})`;
  }
  const s = score(isRegression(record));
  setStatus(`running: epoch ${round(record.epoch, 2)}, val ${s.name} ${s.show(record[s.val])}`);
  scheduleRedraw();
}

// A run that has only just started has not written its configuration and classes yet; they are
// asked for again when its first events arrive.
let detailPending = false;

async function loadDetail(runId) {
  detailPending = false;
  const detail = await get(`/api/runs/${encodeURIComponent(runId)}`);
  if (runId !== run) return;
  classes = detail.classes || [];
  const config = detail.config || {};
  detailPending = !config.model;
  showSettings(config);
}

export async function follow(runId) {
  if (stream) stream.close();
  run = runId;
  series = emptySeries();
  $("epochs").replaceChildren();
  $("per-class").replaceChildren();
  $("train-run").textContent = runId;
  writeState({ run: runId });
  showError("");
  showNote("");
  setStatus("connecting");
  try {
    await loadDetail(runId);
  } catch (err) {
    showError(err.message);
  }
  scheduleRedraw();
  stream = events(`/api/runs/${encodeURIComponent(runId)}/events`);
  const parse = (e) => JSON.parse(e.data);
  stream.addEventListener("step", (e) => {
    const s = parse(e);
    if (detailPending) loadDetail(runId).catch(() => {});
    series.steps.push(s);
    series.lastStep = s.step;
    scheduleRedraw();
  });
  stream.addEventListener("epoch", (e) => {
    if (detailPending) loadDetail(runId).catch(() => {});
    onEpoch(epochRecord(parse(e)));
  });
  stream.addEventListener("state", (e) => setStatus(parse(e).state));
  stream.addEventListener("note", (e) => showNote(parse(e).text));
  // a failure found once the data is loaded (a model that does not fit it) comes on the stream
  stream.addEventListener("error", (e) => { if (e.data) showError(parse(e).error); });
  stream.addEventListener("done", () => {
    stream.close();
    const state = $("train-status").dataset.state;
    if (state !== "failed" && state !== "stopped") setStatus("done");
    refreshRuns();
  });
  stream.onerror = () => {
    // EventSource reconnects by itself; say so rather than fail silently
    if (stream.readyState === EventSource.CONNECTING) setStatus("reconnecting");
  };
}

// The form shows the settings of the run on screen, ready to start a variant of it.
const SETTINGS = { "train-data": "data", "train-model": "model", "train-input": "input", "train-epochs": "epochs",
  "train-lr": "lr", "train-batch": "batch_size", "train-optimizer": "optimizer" };
let typed = false; // the student's own model text wins over the Build panel's

function showSettings(config) {
  if (!config.model) return;
  for (const [id, field] of Object.entries(SETTINGS)) {
    if (config[field] !== undefined && config[field] !== null) $(id).value = config[field];
  }
  const named = [...$("train-recipe").options].some((o) => o.value && o.value === config.recipe);
  $("train-recipe").value = named ? config.recipe : "";
  typed = true;
}

async function control(action, body) {
  showError("");
  try {
    const answer = await post(`/api/train/${action}`, body);
    if (answer && answer.state) setStatus(answer.state);
  } catch (err) {
    showError(err.message);
  }
}

async function start(e) {
  e.preventDefault();
  showError("");
  const recipe = $("train-recipe").value || null;
  const body = {
    data: $("train-data").value.trim(),
    model: $("train-model").value.trim(),
    recipe,
    epochs: Number($("train-epochs").value),
    lr: Number($("train-lr").value),
    batch_size: Number($("train-batch").value),
    optimizer: $("train-optimizer").value,
  };
  const input = $("train-input").value.trim();
  if (input) body.input = input;
  writeState({ data: body.data });
  try {
    const answer = await post("/api/train", body);
    await follow(answer.run);
    refreshRuns();
  } catch (err) {
    showError(err.message);
  }
}

const RUN_COLUMNS = [
  ["run", (r) => r.run],
  ["model", (r) => r.model],
  ["data", (r) => r.data],
  ["epochs", (r) => round(r.epochs_done, 2)],
  ["best val", (r) => (r.best && isRegression(r.best) ? `RMSE ${round(r.best.val_rmse, 4)}` : pct(r.best && r.best.val_acc))],
  ["state", (r) => r.state],
  ["params", (r) => fmt(r.params)],
  ["MACs", (r) => fmt(r.macs)],
];

export async function refreshRuns() {
  let runs;
  try {
    runs = await get("/api/runs");
  } catch (err) {
    showError(err.message);
    return;
  }
  const table = $("runs");
  table.innerHTML = "<thead><tr>" + RUN_COLUMNS.map(([h]) => `<th scope="col">${h}</th>`).join("") + "<th></th></tr></thead>";
  const body = table.createTBody();
  for (const r of runs) {
    const tr = document.createElement("tr");
    for (const [h, read] of RUN_COLUMNS) {
      const td = document.createElement("td");
      td.textContent = read(r) ?? "";
      if (h === "run" || h === "model" || h === "data" || h === "state") td.className = "text";
      tr.append(td);
    }
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = r.state === "running" ? "Follow" : "Open";
    button.addEventListener("click", () => follow(r.run));
    td.append(button);
    tr.append(td);
    body.append(tr);
  }
  if (runs.length === 0) body.innerHTML = '<tr><td class="text muted" colspan="9">No runs yet: start one above.</td></tr>';
  publish("runs", runs);
}

export function initTrain(info) {
  const names = $("data-names");
  subscribe("datasets", (list) => names.replaceChildren(...list.map((name) => new Option(name, name))));
  publish("datasets", info.datasets);
  $("train-data").value = info.default_data || info.datasets[0] || "";
  subscribe("zoo", (models) => $("zoo-names").replaceChildren(...models.map((m) => new Option(m.name, m.name))));
  $("runs-root").textContent = info.runs_root || "(none)";
  // the model defaults to what the Build panel shows, until the student types their own
  $("train-model").addEventListener("input", () => { typed = true; });
  subscribe("model", (m) => {
    if (typed) return;
    // the input stays empty: training takes the data's shape, whatever the Build panel shows
    $("train-model").value = m.model || m.canonical || m.spec || "";
  });
  $("train-form").addEventListener("submit", start);
  $("train-pause").addEventListener("click", () => control("pause"));
  $("train-resume").addEventListener("click", () => control("resume"));
  $("train-stop").addEventListener("click", () => control("stop"));
  $("train-set-lr").addEventListener("click", () => {
    const lr = Number($("train-new-lr").value);
    if (!(lr > 0)) return showError("Type a learning rate above 0 first.");
    control("lr", { lr });
  });
  $("runs-refresh").addEventListener("click", refreshRuns);
  series = emptySeries();
  redraw();
  refreshRuns();
  const initial = readState().run || info.run;
  if (initial) follow(initial);
}
