// Panel 2, Convolution step by step: the server computes every window, product and sum
// (/api/conv); this panel only plays them back, one output cell per step.

import { debounce, latest, post } from "./api.js";
import { gridTable, round } from "./draw.js";
import { readImageFile, sketchpad, greyGrid } from "./sketch.js";
import { readState, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);

// Input presets: the lectures' worked examples, with the settings each one teaches.
function inputPresets(examples) {
  return {
    xcorr5: { label: "5×5 cross-correlation example", input: examples.xcorr5.input, kernel: examples.xcorr5.kernel, stride: 1, padding: 0, pool: "" },
    grid7: { label: "7×7 grid, 3×3 stride 3 (does not fit)", input: examples.grid7, kernel: [[1, 1, 1], [1, 1, 1], [1, 1, 1]], stride: 3, padding: 0, pool: "" },
    grid7pad: { label: "7×7 grid, 3×3 stride 1 pad 1", input: examples.grid7, kernel: [[1, 1, 1], [1, 1, 1], [1, 1, 1]], stride: 1, padding: 1, pool: "" },
    pool4a: { label: "4×4 max pooling example", input: examples.pool4a, kernel: [[1]], stride: 1, padding: 0, pool: "max" },
    pool4b: { label: "second 4×4 max pooling example", input: examples.pool4b, kernel: [[1]], stride: 1, padding: 0, pool: "max" },
    custom: { label: "typed, drawn or uploaded" },
  };
}

const matrixText = (m) => m.map((row) => row.map((v) => String(round(v, 3))).join(" ")).join("\n");

// One number per cell, rows on lines; commas, brackets and spaces all separate.
function parseMatrix(text, what) {
  const rows = text
    .split("\n")
    .map((line) => line.replace(/[[\],;]/g, " ").trim())
    .filter(Boolean)
    .map((line) => line.split(/\s+/).map(Number));
  if (rows.length === 0) throw new Error(`Type the ${what}: one row of numbers per line.`);
  if (rows.some((r) => r.some((v) => !Number.isFinite(v)))) throw new Error(`The ${what} holds something that is not a number.`);
  if (rows.some((r) => r.length !== rows[0].length)) throw new Error(`Every row of the ${what} needs the same number of values.`);
  return rows;
}

let answer = null; // the server's worked convolution
let frame = 0; // steps shown so far, conv steps first, then pooling steps
let timer = null;

const convSteps = () => (answer ? answer.steps.length : 0);
const totalSteps = () => convSteps() + (answer && answer.pool ? answer.pool.steps.length : 0);

function request() {
  const mode = document.querySelector('input[name="conv-mode"]:checked').value;
  const pool = $("conv-pool").value || null;
  return {
    input: parseMatrix($("conv-input").value, "input"),
    kernel: parseMatrix($("conv-kernel").value, "kernel"),
    bias: Number($("conv-bias").value) || 0,
    stride: Number($("conv-stride").value) || 1,
    padding: Number($("conv-padding").value) || 0,
    dilation: Number($("conv-dilation").value) || 1,
    mode,
    pool,
    pool_size: Number($("conv-pool-size").value) || 2,
    pool_stride: Number($("conv-pool-stride").value) || 2,
  };
}

const key = (y, x) => `${y},${x}`;

function render() {
  if (!answer) return;
  const n = convSteps();
  const inConv = frame <= n;
  const step = inConv ? answer.steps[frame - 1] : null;
  const poolStep = !inConv ? answer.pool.steps[frame - n - 1] : null;
  const padding = Number($("conv-padding").value) || 0;
  const padded = answer.padded_input;
  const h = padded.length - 2 * padding;
  const w = padded[0].length - 2 * padding;
  const window = new Set(step ? step.window.map(([y, x]) => key(y, x)) : []);
  gridTable($("conv-padded"), padded, (i, j) => {
    const classes = [];
    if (i < padding || j < padding || i >= padding + h || j >= padding + w) classes.push("pad");
    if (window.has(key(i, j))) classes.push("win");
    return classes.join(" ");
  });
  const flipped = answer.flipped_kernel;
  $("conv-kernel-caption").textContent = flipped ? "kernel, flipped (convolution)" : "kernel";
  gridTable($("conv-kernel-view"), flipped || request().kernel);

  // the output fills in as the steps go; during pooling its windows light up
  const doneConv = new Set(answer.steps.slice(0, Math.min(frame, n)).map((s) => key(...s.out)));
  const poolWindow = new Set(poolStep ? poolStep.window.map(([y, x]) => key(y, x)) : []);
  gridTable($("conv-output"), answer.output, (i, j) => {
    if (step && step.out[0] === i && step.out[1] === j) return "cur";
    if (poolWindow.has(key(i, j))) return "win";
    return doneConv.has(key(i, j)) ? "done" : "empty";
  });
  $("conv-pool-figure").hidden = !answer.pool;
  if (answer.pool) {
    const donePool = new Set(answer.pool.steps.slice(0, Math.max(0, frame - n)).map((s) => key(...s.out)));
    $("conv-pool-caption").textContent = `${$("conv-pool").value === "max" ? "max" : "average"} pooled`;
    gridTable($("conv-pool-output"), answer.pool.output, (i, j) => {
      if (poolStep && poolStep.out[0] === i && poolStep.out[1] === j) return "cur";
      return donePool.has(key(i, j)) ? "done" : "empty";
    });
  }
  $("conv-step-label").textContent = `step ${frame} of ${totalSteps()}`;
  $("conv-products").replaceChildren(explain(step, poolStep));
}

// The current step's arithmetic: every product with the running sum beside it.
function explain(step, poolStep) {
  const out = document.createDocumentFragment();
  if (step) {
    let running = 0;
    const lines = step.products.map(([a, b, ab]) => {
      running += ab;
      return `${String(round(a, 3)).padStart(6)} × ${String(round(b, 3)).padEnd(6)} = ${String(round(ab, 4)).padEnd(8)} running sum ${round(running, 4)}`;
    });
    const bias = Number($("conv-bias").value) || 0;
    out.append(`output (${step.out[0]}, ${step.out[1]}):\n${lines.join("\n")}\n`);
    const sum = document.createElement("span");
    sum.className = "sum";
    const result = round(answer.output[step.out[0]][step.out[1]], 4);
    sum.textContent = bias ? `sum ${round(running, 4)} + bias ${bias} = ${result}` : `sum = ${result}`;
    out.append(sum);
  } else if (poolStep) {
    const values = poolStep.window.map(([y, x]) => round(answer.output[y][x], 4));
    const how = $("conv-pool").value === "max" ? "max" : "average";
    const result = answer.pool.output[poolStep.out[0]][poolStep.out[1]];
    out.append(`pooled (${poolStep.out[0]}, ${poolStep.out[1]}) = ${how} of [${values.join(", ")}] = `);
    const sum = document.createElement("span");
    sum.className = "sum";
    sum.textContent = String(round(result, 4));
    out.append(sum);
  } else {
    out.append("Press Play or Step to slide the window over the padded input.");
  }
  return out;
}

function renderFormula() {
  const f = answer.formula;
  const p = $("conv-formula");
  p.replaceChildren(`output size: ${f.text}`);
  if (!f.fits) {
    const bad = document.createElement("span");
    bad.className = "bad";
    bad.textContent = f.sentence || "The window does not fit the input evenly.";
    p.append(document.createElement("br"), bad);
  }
}

const compute = latest(
  (signal, body) => post("/api/conv", body, signal),
  (result) => {
    answer = result;
    frame = Math.min(frame, totalSteps());
    $("conv-error").hidden = true;
    renderFormula();
    render();
  },
  (err) => showError(err.message),
);

function showError(message) {
  $("conv-error").textContent = message;
  $("conv-error").hidden = false;
}

function recompute() {
  stop();
  frame = 0;
  let body;
  try {
    body = request();
  } catch (err) {
    showError(err.message);
    return;
  }
  writeState({ conv: JSON.stringify({ ...body, preset: $("conv-input-preset").value }) });
  compute(body);
}

function stop() {
  clearInterval(timer);
  timer = null;
  $("conv-play").textContent = "Play";
}

function play() {
  if (timer) return stop();
  if (frame >= totalSteps()) frame = 0;
  $("conv-play").textContent = "Pause";
  const tick = () => {
    if (frame >= totalSteps()) return stop();
    frame += 1;
    render();
  };
  timer = setInterval(tick, 1000 / Number($("conv-speed").value));
}

function applyPreset(preset) {
  if (!preset.input) return;
  $("conv-input").value = matrixText(preset.input);
  $("conv-kernel").value = matrixText(preset.kernel);
  $("conv-input").rows = Math.min(12, preset.input.length);
  $("conv-stride").value = preset.stride;
  $("conv-padding").value = preset.padding;
  $("conv-dilation").value = 1;
  $("conv-pool").value = preset.pool;
  $("conv-kernel-preset").value = "";
}

export function initConv(info) {
  const presets = inputPresets(info.examples);
  const inputSelect = $("conv-input-preset");
  for (const [id, p] of Object.entries(presets)) inputSelect.append(new Option(p.label, id));
  const kernelSelect = $("conv-kernel-preset");
  kernelSelect.append(new Option("typed", ""));
  for (const name of Object.keys(info.kernels)) kernelSelect.append(new Option(name, name));

  const saved = readState().conv;
  applyPreset(presets.xcorr5);
  if (saved) {
    try {
      const s = JSON.parse(saved);
      if (presets[s.preset]) inputSelect.value = s.preset;
      if (s.input) $("conv-input").value = matrixText(s.input);
      $("conv-kernel").value = matrixText(s.kernel);
      for (const k of ["bias", "stride", "padding", "dilation"]) $(`conv-${k}`).value = s[k];
      $("conv-pool").value = s.pool || "";
      $("conv-pool-size").value = s.pool_size;
      $("conv-pool-stride").value = s.pool_stride;
      document.querySelector(`input[name="conv-mode"][value="${s.mode}"]`).checked = true;
    } catch {
      // a hand-edited link: keep the preset
    }
  }

  inputSelect.addEventListener("change", () => { applyPreset(presets[inputSelect.value]); recompute(); });
  kernelSelect.addEventListener("change", () => {
    const k = info.kernels[kernelSelect.value];
    if (k) { $("conv-kernel").value = matrixText(k); recompute(); }
  });
  const typed = debounce(recompute, 150);
  for (const id of ["conv-input", "conv-kernel"]) $(id).addEventListener("input", () => {
    if (id === "conv-input") inputSelect.value = "custom";
    else kernelSelect.value = "";
    typed();
  });
  for (const id of ["conv-bias", "conv-stride", "conv-padding", "conv-dilation", "conv-pool", "conv-pool-size", "conv-pool-stride"]) {
    $(id).addEventListener("input", typed);
  }
  for (const radio of document.querySelectorAll('input[name="conv-mode"]')) radio.addEventListener("change", recompute);

  $("conv-play").addEventListener("click", play);
  $("conv-next").addEventListener("click", () => { stop(); frame = Math.min(totalSteps(), frame + 1); render(); });
  $("conv-prev").addEventListener("click", () => { stop(); frame = Math.max(0, frame - 1); render(); });
  $("conv-reset").addEventListener("click", () => { stop(); frame = 0; render(); });
  $("conv-speed").addEventListener("input", () => { if (timer) { stop(); play(); } });

  // a drawing or a picture, brought down to a small grid whose numbers stay readable
  const pad = sketchpad($("conv-sketch"), { brush: 12 });
  const size = () => Math.max(3, Math.min(16, Number($("conv-sketch-size").value) || 10));
  const useGrid = (grid) => {
    $("conv-input").value = matrixText(grid);
    $("conv-input").rows = Math.min(12, grid.length);
    inputSelect.value = "custom";
    recompute();
  };
  $("conv-sketch-use").addEventListener("click", () => useGrid(pad.grid(size(), size(), 2)));
  $("conv-sketch-clear").addEventListener("click", () => pad.clear());
  $("conv-upload").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const { image } = await readImageFile(file);
      useGrid(greyGrid(image, size(), size(), 2));
    } catch (err) {
      showError(err.message);
    }
  });
  recompute();
}
