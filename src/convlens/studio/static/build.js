// Panel 1, Build: the spec (or a zoo model) and its per-layer arithmetic, refreshed on every
// keystroke, with the receptive field of any output cell lit up on the input.

import { debounce, get, latest, post } from "./api.js";
import { dims, fmt, fitCanvas } from "./draw.js";
import { publish, readState, writeState } from "./state.js";

const $ = (id) => document.getElementById(id);
export const DEFAULT_SPEC = "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10";

// The table's columns: header, how to read a row.
const COLUMNS = [
  ["layer", (r) => r.name],
  ["kind", (r) => r.kind],
  ["output", (r) => dims(r.out_shape)],
  ["kernel", (r) => dims(r.kernel)],
  ["stride", (r) => dims(r.stride)],
  ["padding", (r) => dims(r.padding)],
  ["dilation", (r) => dims(r.dilation)],
  ["weights", (r) => fmt(r.weights)],
  ["biases", (r) => fmt(r.biases)],
  ["params", (r) => fmt(r.params)],
  ["MACs", (r) => fmt(r.macs)],
  ["RF", (r) => dims(r.rf)],
  ["jump", (r) => dims(r.jump)],
  ["note", (r) => [r.drops_border ? "⚠ drops border pixels" : "", r.note || ""].filter(Boolean).join("; ")],
];

let summary = null; // the last good answer, with the request that produced it
let selected = null;

function source() {
  const model = $("zoo").value;
  const input = $("in-shape").value.trim();
  return model ? { model, input } : { spec: $("spec").value.trim(), input };
}

function showError(answer, text) {
  if (answer.rows) renderTable({ ...answer, totals: null });
  const box = $("spec-error");
  const echo = $("spec-echo");
  echo.replaceChildren();
  if (Number.isInteger(answer.start) && Number.isInteger(answer.end) && text) {
    const mark = document.createElement("mark");
    mark.className = "bad";
    mark.textContent = text.slice(answer.start, Math.max(answer.end, answer.start + 1)) || " ";
    echo.append(text.slice(0, answer.start), mark, text.slice(Math.max(answer.end, answer.start + 1)));
  }
  $("spec-sentence").textContent = answer.error;
  // the sentence may be about the input shape or the zoo name rather than the spec
  const field = { input: "in-shape", model: "zoo" }[answer.field] || "spec";
  for (const id of ["spec", "in-shape", "zoo"]) $(id).removeAttribute("aria-invalid");
  $(field).setAttribute("aria-invalid", "true");
  box.hidden = false;
  $("layers").classList.add("stale");
}

function clearError() {
  $("spec-error").hidden = true;
  for (const id of ["spec", "in-shape", "zoo"]) $(id).removeAttribute("aria-invalid");
  $("layers").classList.remove("stale");
}

function renderTable(answer) {
  const table = $("layers");
  const head = document.createElement("thead");
  const TEXT = new Set(["layer", "kind", "note"]);
  head.innerHTML = "<tr>" + COLUMNS.map(([h]) => `<th scope="col"${TEXT.has(h) ? ' class="text"' : ""}>${h}</th>`).join("") + "</tr>";
  const body = document.createElement("tbody");
  answer.rows.forEach((row, index) => {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.index = String(index);
    if (row.drops_border) tr.classList.add("drops");
    if (index === selected) tr.classList.add("selected");
    for (const [header, read] of COLUMNS) {
      const td = document.createElement("td");
      td.textContent = read(row);
      if (header === "note" || header === "layer" || header === "kind") td.className = "text";
      if (header === "note" && row.drops_border) td.classList.add("flag");
      tr.append(td);
    }
    tr.addEventListener("click", () => selectLayer(index));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectLayer(index); } });
    body.append(tr);
  });
  table.replaceChildren(head, body);
  const t = answer.totals;
  if (!t) {
    $("totals").textContent = "the layers before the one that does not fit";
    return;
  }
  $("totals").textContent =
    `${fmt(t.params)} parameters (${fmt(t.trainable_params)} trainable, ${fmt(t.param_bytes)} bytes), ` +
    `${fmt(t.macs)} MACs, ${fmt(t.activation_bytes)} bytes of activations`;
  $("code").textContent = answer.pytorch || "";
}

const inputHW = () => {
  const first = summary.answer.rows[0];
  const shape = first ? first.in_shape : [];
  return shape.length === 3 ? shape.slice(1) : null;
};

const GRID_PX = 170; // the receptive-field grids' largest side, in CSS pixels

function drawGrid(canvas, h, w, box = null, hover = null) {
  const cell = fitCanvas(canvas, h, w, GRID_PX);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f4f6f9";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (cell >= 4) {
    ctx.strokeStyle = "#d9dde4";
    for (let i = 0; i <= h; i++) { ctx.beginPath(); ctx.moveTo(0, i * cell + 0.5); ctx.lineTo(w * cell, i * cell + 0.5); ctx.stroke(); }
    for (let j = 0; j <= w; j++) { ctx.beginPath(); ctx.moveTo(j * cell + 0.5, 0); ctx.lineTo(j * cell + 0.5, h * cell); ctx.stroke(); }
  }
  if (box) {
    const [y0, x0, y1, x1] = box;
    ctx.fillStyle = "rgba(47, 111, 222, 0.35)";
    ctx.fillRect(x0 * cell, y0 * cell, (x1 - x0 + 1) * cell, (y1 - y0 + 1) * cell);
    ctx.strokeStyle = "#2f6fde";
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 * cell + 1, y0 * cell + 1, (x1 - x0 + 1) * cell - 2, (y1 - y0 + 1) * cell - 2);
    ctx.lineWidth = 1;
  }
  if (hover) {
    ctx.fillStyle = "#2f6fde";
    ctx.fillRect(hover[1] * cell, hover[0] * cell, cell, cell);
  }
  return cell;
}

function selectLayer(index) {
  selected = index;
  writeState({ layer: index });
  for (const tr of $("layers").querySelectorAll("tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.index) === index);
  const row = summary && summary.answer.rows[index];
  const hw = summary && inputHW();
  if (!row || !hw || row.out_shape.length !== 3) {
    $("rf-caption").textContent = row ? `${row.name} has no spatial output; pick a convolution or pooling layer.` : "Choose a layer in the table.";
    return;
  }
  $("rf-caption").textContent = `${row.name}: hover (or use the arrow keys on) an output cell.`;
  $("rf-out-label").textContent = `${row.name} output ${row.out_shape[1]}×${row.out_shape[2]}`;
  drawGrid($("rf-input"), hw[0], hw[1]);
  drawGrid($("rf-output"), row.out_shape[1], row.out_shape[2]);
  $("rf-box").textContent = "";
}

const askRf = latest(
  (signal, cell) => post("/api/rf", { ...summary.request, layer: selected, y: cell[0], x: cell[1] }, signal),
  (answer, cell) => {
    const row = summary.answer.rows[selected];
    const hw = inputHW();
    drawGrid($("rf-input"), hw[0], hw[1], answer.box);
    drawGrid($("rf-output"), row.out_shape[1], row.out_shape[2], null, cell);
    const [y0, x0, y1, x1] = answer.box;
    $("rf-box").textContent =
      `output (${cell[0]}, ${cell[1]}) sees input rows ${y0}–${y1}, columns ${x0}–${x1} ` +
      `(${y1 - y0 + 1}×${x1 - x0 + 1})` +
      (answer.unclipped && answer.unclipped.join() !== answer.box.join()
        ? `; unclipped it reaches past the border to [${answer.unclipped.join(", ")}]`
        : "");
  },
  (err) => { $("rf-box").textContent = err.message; },
);

let hoverCell = null;
function hoverAt(cell) {
  const row = summary && summary.answer.rows[selected];
  if (!row || row.out_shape.length !== 3) return;
  const [h, w] = row.out_shape.slice(1);
  const y = Math.min(h - 1, Math.max(0, cell[0]));
  const x = Math.min(w - 1, Math.max(0, cell[1]));
  if (hoverCell && hoverCell[0] === y && hoverCell[1] === x) return;
  hoverCell = [y, x];
  askRf(hoverCell);
}

const refresh = latest(
  (signal, request) => post("/api/spec", request, signal),
  (answer, request) => {
    if (!answer.ok) {
      showError(answer, request.spec || "");
      return;
    }
    clearError();
    summary = { answer, request };
    renderTable(answer);
    publish("model", { ...request, canonical: answer.spec, rows: answer.rows });
    if (selected !== null && selected < answer.rows.length) selectLayer(selected);
  },
  (err) => showError({ error: err.message }, ""),
);

function changed() {
  const request = source();
  writeState({ spec: request.spec || null, model: request.model || null, input: request.input });
  refresh(request);
}

function fillZoo(models) {
  const zoo = $("zoo");
  const keep = zoo.value || readState().model || "";
  zoo.replaceChildren(new Option("(the spec)", ""));
  for (const m of models) {
    const option = new Option(`${m.name} (${fmt(m.params)} params)`, m.name);
    option.dataset.input = dims(m.in_shape).replaceAll("×", "x");
    zoo.append(option);
  }
  // a shared link may name a model before the zoo's table has arrived
  if (keep && ![...zoo.options].some((o) => o.value === keep)) zoo.append(new Option(keep, keep));
  zoo.value = keep;
  publish("zoo", models);
}

export function initBuild(info) {
  const zoo = $("zoo");
  fillZoo(info.zoo);
  // torch and the zoo load in the background when the server starts; the page does not wait
  if (info.loading || info.zoo_loading) {
    get("/api/catalog").then((catalog) => {
      fillZoo(catalog.zoo);
      publish("datasets", catalog.datasets);
    }, () => {});
  }
  const state = readState();
  $("spec").value = state.spec ?? DEFAULT_SPEC;
  if (state.model) zoo.value = state.model;
  $("in-shape").value = state.input || (zoo.selectedOptions[0] && zoo.selectedOptions[0].dataset.input) || "1x28x28";
  if (state.layer !== undefined) selected = Number(state.layer);

  const typed = debounce(changed, 50);
  $("spec").addEventListener("input", () => { zoo.value = ""; typed(); });
  $("in-shape").addEventListener("input", typed);
  zoo.addEventListener("change", () => {
    const option = zoo.selectedOptions[0];
    if (option && option.dataset.input) $("in-shape").value = option.dataset.input;
    changed();
  });

  const out = $("rf-output");
  out.addEventListener("mousemove", (e) => {
    if (!summary || selected === null || !summary.answer.rows[selected]) return;
    const cell = out.width / (summary.answer.rows[selected].out_shape[2] || 1);
    const rect = out.getBoundingClientRect();
    const scale = out.width / rect.width;
    hoverAt([Math.floor(((e.clientY - rect.top) * scale) / cell), Math.floor(((e.clientX - rect.left) * scale) / cell)]);
  });
  out.addEventListener("keydown", (e) => {
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!step) return;
    e.preventDefault();
    const at = hoverCell || [0, 0];
    hoverAt([at[0] + step[0], at[1] + step[1]]);
  });
  $("copy-code").addEventListener("click", async () => {
    const text = $("code").textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("code"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      document.execCommand("copy");
    }
    $("copy-code").textContent = "Copied";
    setTimeout(() => { $("copy-code").textContent = "Copy"; }, 1200);
  });
  changed();
}
