// Panel 4, Look inside: draw, upload or pick an input; the server runs the model and every
// attribution method (/api/inspect) and this panel paints what comes back.

import { get, latest, post, throttle } from "./api.js";
import { barList, dims, diverging, fitCanvas, paintMatrix, paintOverlay, round, viridis } from "./draw.js";
import { readImageFile, sketchpad } from "./sketch.js";
import { current, readState, subscribe, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);
const MAP_SIZE = 84; // CSS pixels per feature map, whatever its resolution
const SHOWN_PRODUCTS = 12; // terms written out in a cell's sum before "…"

const isConv = (layer) => layer.kind.startsWith("conv");

let input = null; // {pixels} | {image} | {example}: what the model looks at
let answer = null;
let classes = [];

// Where the model comes from: a run's checkpoint, or the Build panel's spec (fresh weights).
function source() {
  const value = $("inspect-source").value;
  if (value.startsWith("run:")) return { run: value.slice(4) };
  const m = current("model");
  if (!m) return null;
  return m.model ? { model: m.model, input: m.input } : { spec: m.spec, input: m.input };
}

function showError(message) {
  $("inspect-error").textContent = message;
  $("inspect-error").hidden = !message;
}

function target() {
  const v = $("inspect-target").value;
  return v === "" ? null : Number(v);
}

const inspect = latest(
  (signal, body) => {
    const t0 = performance.now();
    return post("/api/inspect", body, signal).then((a) => ({ ...a, ms: performance.now() - t0 }));
  },
  (result) => {
    answer = result;
    showError("");
    render();
    $("inspect-status").textContent = `updated in ${Math.round(result.ms)} ms`;
  },
  (err) => showError(err.message),
);

function refresh() {
  const from = source();
  if (!from || !input) return;
  $("cell").hidden = true;
  inspect({ ...from, ...input, target: target() });
}

function paintInto(id, m, colour) {
  const canvas = $(id);
  if (!m) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  paintMatrix(canvas, m, colour);
}

function render() {
  const bars = answer.probs.map((p) => ({ label: answer.regression ? `output ${p.class}` : p.class, value: p.p }));
  barList($("probs"), bars, answer.regression ? { values: true } : { top: true });
  paintInto("att-input", answer.input);
  paintInto("att-saliency", answer.saliency, viridis);
  paintInto("att-guided", answer.guided);
  if (answer.gradcam) paintOverlay($("att-gradcam"), answer.input, answer.gradcam, 0.55);
  else paintInto("att-gradcam", null);
  // occlusion is signed: how much hiding each patch lowers (+) or raises (-) the class score
  paintInto("att-occlusion", answer.occlusion, diverging);
  renderMaps();
  fillDreamLayers(answer.layers);
}

function renderMaps() {
  const holder = $("maps");
  holder.replaceChildren(
    ...answer.layers.map((layer) => {
      const block = document.createElement("div");
      const conv = isConv(layer);
      block.className = `layer-maps${conv ? " conv" : ""}`;
      block.dataset.layer = layer.name;
      const title = document.createElement("h3");
      const shown = layer.maps.length < layer.shape[0] ? ` (first ${layer.maps.length} channels)` : "";
      title.textContent = `${layer.name} · ${layer.kind} · ${dims(layer.shape)}${shown}`;
      const maps = document.createElement("div");
      maps.className = "maps";
      layer.maps.forEach((m, channel) => {
        const canvas = document.createElement("canvas");
        fitCanvas(canvas, m.length, m[0].length, MAP_SIZE);
        canvas.style.width = `${MAP_SIZE}px`;
        canvas.title = `${layer.name}, channel ${channel}`;
        paintMatrix(canvas, m, viridis);
        if (conv) {
          canvas.tabIndex = 0;
          canvas.addEventListener("click", (e) => {
            const rect = canvas.getBoundingClientRect();
            const y = Math.floor(((e.clientY - rect.top) / rect.height) * m.length);
            const x = Math.floor(((e.clientX - rect.left) / rect.width) * m[0].length);
            explainCell(layer.name, channel, y, x);
          });
          canvas.addEventListener("keydown", (e) => {
            if (e.key === "Enter") explainCell(layer.name, channel, Math.floor(m.length / 2), Math.floor(m[0].length / 2));
          });
        }
        maps.append(canvas);
      });
      block.append(title, maps);
      return block;
    }),
  );
}

// A conv layer's output cell worked out: the window it reads, the kernel, the sum.
async function explainCell(layer, channel, y, x) {
  const from = source();
  let cell;
  try {
    cell = await post("/api/inspect/cell", { ...from, ...input, target: target(), layer, channel, y, x });
  } catch (err) {
    showError(err.message);
    return;
  }
  const box = $("cell");
  box.replaceChildren();
  const title = document.createElement("h3");
  title.textContent = `${layer}, channel ${channel}, output (${y}, ${x})`;
  const tables = document.createElement("div");
  tables.className = "tables";
  const channels = Math.min(3, cell.window.length);
  for (let c = 0; c < channels; c++) {
    tables.append(small(`input window, channel ${c}`, cell.window[c]), small(`kernel, channel ${c}`, cell.kernel[c]));
  }
  const terms = [];
  cell.window.forEach((plane, c) => plane.forEach((row, i) => row.forEach((v, j) => terms.push(`${round(v, 3)}×${round(cell.kernel[c][i][j], 3)}`))));
  const more = terms.length > SHOWN_PRODUCTS ? ` + … (${terms.length} products in all)` : "";
  const sum = document.createElement("p");
  sum.className = "mono";
  sum.textContent =
    `${terms.slice(0, SHOWN_PRODUCTS).join(" + ")}${more} = ${round(cell.products_sum, 4)}\n` +
    `+ bias ${round(cell.bias, 4)} = ${round(cell.output, 4)}` +
    (cell.window.length > channels ? `  (${cell.window.length} input channels; the first ${channels} shown)` : "");
  sum.style.whiteSpace = "pre-wrap";
  box.append(title, tables, sum);
  box.hidden = false;
  // the receptive field on the input picture
  if (cell.box && answer) {
    paintMatrix($("att-input"), answer.input);
    const canvas = $("att-input");
    const planes = Array.isArray(answer.input[0][0]) ? answer.input[0] : answer.input;
    const sy = canvas.height / planes.length;
    const sx = canvas.width / planes[0].length;
    const [y0, x0, y1, x1] = cell.box;
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "#ffd400";
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 * sx + 1, y0 * sy + 1, (x1 - x0 + 1) * sx - 2, (y1 - y0 + 1) * sy - 2);
  }
}

function small(caption, m) {
  const figure = document.createElement("figure");
  const table = document.createElement("table");
  table.className = "grid-table";
  for (const row of m) {
    const tr = table.insertRow();
    for (const v of row) tr.insertCell().textContent = String(round(v, 2));
  }
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  figure.append(table, cap);
  return figure;
}

function fillDreamLayers(layers) {
  const select = $("dream-layer");
  const names = layers.filter((l) => isConv(l) || l.kind === "relu").map((l) => l.name);
  if ([...select.options].map((o) => o.value).join() === names.join()) return;
  const keep = select.value;
  select.replaceChildren(...names.map((n) => new Option(n, n)));
  if (names.includes(keep)) select.value = keep;
}

async function setClasses() {
  const from = source();
  classes = [];
  if (from && from.run) {
    try {
      classes = (await get(`/api/runs/${encodeURIComponent(from.run)}`)).classes || [];
    } catch (err) {
      showError(err.message);
    }
  } else {
    const rows = (current("model") || {}).rows || [];
    const last = rows[rows.length - 1];
    if (last) classes = Array.from({ length: last.out_shape[0] }, (_, i) => String(i));
  }
  for (const id of ["inspect-target", "ci-class"]) {
    const select = $(id);
    const keep = select.value;
    const first = id === "inspect-target" ? [new Option("top prediction", "")] : [];
    select.replaceChildren(...first, ...classes.map((c, i) => new Option(`${i}: ${c}`, String(i))));
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }
}

let startRun = null; // the run the server was started with: what a student most likely means

function fillSources(runs) {
  const select = $("inspect-source");
  const keep = select.value || readState().inspect || (startRun ? `run:${startRun}` : "");
  const options = [new Option("the Build panel's model (untrained)", "build")];
  for (const r of runs || []) options.push(new Option(`run ${r.run} (${r.model}, ${r.data})`, `run:${r.run}`));
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

async function runTool(path, body, canvasId, settingsId) {
  showError("");
  $("inspect-status").textContent = "working…";
  try {
    const result = await post(path, body);
    paintMatrix($(canvasId), result.image);
    const shown = { ...result.settings };
    if (result.score !== undefined) shown.score = round(result.score, 4);
    $(settingsId).textContent = JSON.stringify(shown, null, 1);
    $("inspect-status").textContent = "";
  } catch (err) {
    showError(err.message);
    $("inspect-status").textContent = "";
  }
}

export function initInspect(info) {
  startRun = info.run;
  const pad = sketchpad($("sketch"), {
    brush: 22,
    onStroke: throttle(() => { input = { pixels: pad.grid(112, 112, 2) }; refresh(); }, 150),
    onStrokeEnd: () => { input = { pixels: pad.grid(112, 112, 2) }; refresh(); },
  });
  $("sketch-clear").addEventListener("click", () => { pad.clear(); input = null; });
  $("inspect-upload").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const { dataUrl } = await readImageFile(file);
      input = { image: dataUrl };
      refresh();
    } catch (err) {
      showError(err.message);
    }
  });
  $("inspect-example-go").addEventListener("click", () => {
    input = { example: Number($("inspect-example").value) || 0 };
    refresh();
  });
  $("inspect-source").addEventListener("change", async () => {
    writeState({ inspect: $("inspect-source").value });
    await setClasses();
    refresh();
  });
  $("inspect-target").addEventListener("change", refresh);
  subscribe("runs", fillSources);
  subscribe("model", () => {
    if ($("inspect-source").value === "build" || !$("inspect-source").value) setClasses();
  });
  fillSources([]);

  $("ci-go").addEventListener("click", () => {
    const from = source();
    if (!from) return;
    runTool("/api/class_image", {
      ...from,
      class: Number($("ci-class").value) || 0,
      steps: Number($("ci-steps").value),
      lr: Number($("ci-lr").value),
      l2: Number($("ci-l2").value),
      blur_every: Number($("ci-blur").value),
      jitter: Number($("ci-jitter").value),
    }, "ci-image", "ci-settings");
  });
  $("dream-go").addEventListener("click", () => {
    const from = source();
    if (!from) return;
    if (!input) return showError("Draw, upload or pick an input first: Deep Dream starts from it.");
    runTool("/api/dream", {
      ...from,
      ...input,
      layer: $("dream-layer").value,
      steps: Number($("dream-steps").value),
      lr: Number($("dream-lr").value),
      octaves: Number($("dream-octaves").value),
    }, "dream-image", "dream-settings");
  });
}
