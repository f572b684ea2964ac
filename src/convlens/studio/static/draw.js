// Drawing only: numbers the server computed become pixels, curves, bars and tables here.

export const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : n ?? "");
export const dims = (v) => (Array.isArray(v) ? v.join("×") : v ?? "");
export const round = (x, digits = 4) => (typeof x === "number" ? Number(x.toFixed(digits)) : x);

// Colour stops (value, r, g, b): viridis for magnitudes (van der Walt and Smith, matplotlib's
// default map), blue-white-red for signed weights.
const VIRIDIS = [
  [0.0, 68, 1, 84], [0.25, 59, 82, 139], [0.5, 33, 145, 140], [0.75, 94, 201, 98], [1.0, 253, 231, 37],
];
const DIVERGING = [[0.0, 33, 102, 172], [0.5, 247, 247, 247], [1.0, 178, 24, 43]];
export const SERIES = ["#2f6fde", "#e0622a", "#2e9d5b", "#9c4dcc", "#c62828", "#00838f"];

function ramp(stops, t) {
  const v = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < stops.length; i++) {
    if (v <= stops[i][0]) {
      const [a, b] = [stops[i - 1], stops[i]];
      const f = (v - a[0]) / (b[0] - a[0]);
      return [1, 2, 3].map((k) => Math.round(a[k] + f * (b[k] - a[k])));
    }
  }
  return stops[stops.length - 1].slice(1);
}
export const viridis = (t) => ramp(VIRIDIS, t);
export const diverging = (t) => ramp(DIVERGING, (t + 1) / 2);
const grey = (t) => { const g = Math.round(255 * Math.min(1, Math.max(0, t))); return [g, g, g]; };
export const COLOURMAPS = { grey, viridis };

// A 2-D list (H×W) or 3-D list (C×H×W; C = 3 is colour, otherwise the first channel) as an image
// of RGBA pixels, one per value; a 1-D list (a signal, a table's row) is one row of pixels.
function toPixels(m, colour) {
  if (!Array.isArray(m)) m = [m]; // one value (the saliency of a one-input model)
  if (!Array.isArray(m[0])) m = [m];
  const planes = Array.isArray(m[0][0]) ? m : [m];
  const rgb = planes.length === 3;
  const h = planes[0].length;
  const w = planes[0][0].length;
  const image = new ImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = rgb ? planes.map((p) => Math.round(255 * Math.min(1, Math.max(0, p[y][x])))) : colour(planes[0][y][x]);
      image.data.set([...px, 255], 4 * (y * w + x));
    }
  }
  return image;
}

// Paint a matrix of values in [0, 1] over the whole canvas, each value a crisp square.
export function paintMatrix(canvas, m, colour = grey) {
  const image = toPixels(m, colour);
  const scratch = new OffscreenCanvas(image.width, image.height);
  scratch.getContext("2d").putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  return { h: image.height, w: image.width };
}

// A heat map laid over a grey image (Grad-CAM over the input).
export function paintOverlay(canvas, base, heat, alpha = 0.5) {
  paintMatrix(canvas, base);
  const image = toPixels(heat, viridis);
  const scratch = new OffscreenCanvas(image.width, image.height);
  scratch.getContext("2d").putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 1;
}

// A grid of small tiles (first-layer filters): values in [-1, 1], shape [C_out, C_in, kh, kw].
export function paintFilters(canvas, filters) {
  const [count, cin, kh, kw] = filters.shape;
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const gap = 2;
  const cell = Math.floor(Math.min((canvas.width - gap) / cols, (canvas.height - gap) / rows)) - gap;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let f = 0; f < count; f++) {
    const kernel = filters.values[f];
    // colour filters show as RGB ((v + 1) / 2); others show their first input channel, signed
    const tile = cin === 3 ? kernel.map((p) => p.map((r) => r.map((v) => (v + 1) / 2))) : kernel[0];
    const image = toPixels(tile, diverging);
    const scratch = new OffscreenCanvas(kw, kh);
    scratch.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(scratch, gap + (f % cols) * (cell + gap), gap + Math.floor(f / cols) * (cell + gap), cell, cell);
  }
}

// A K×K confusion matrix: colour by the share of each true class's row.
export function paintConfusion(canvas, matrix) {
  const k = matrix.length;
  const ctx = canvas.getContext("2d");
  const cell = Math.floor(canvas.width / k);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${Math.max(8, Math.min(13, cell / 3))}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const share = count / total;
      const [r, g, b] = viridis(share);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(j * cell, i * cell, cell - 1, cell - 1);
      if (cell >= 18 && count > 0) {
        ctx.fillStyle = share > 0.6 ? "#000" : "#fff";
        ctx.fillText(String(count), j * cell + cell / 2, i * cell + cell / 2);
      }
    });
  });
}

function niceTicks(lo, hi, n = 4) {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

const tickText = (v) => (Math.abs(v) >= 1000 ? fmt(Math.round(v)) : String(Number(v.toPrecision(3))));

// Line chart: series = [{label, points: [[x, y], ...], colour?, dashed?}].
export function lineChart(canvas, { title, series, xLabel = "epoch" }) {
  const ctx = canvas.getContext("2d");
  const { width: W, height: H } = canvas;
  const pad = { l: 46, r: 10, t: 36, b: 30 };
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = "#1d2330";
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(title, pad.l, 4);
  canvas.setAttribute("aria-label", `${title} curve`); // what the picture shows, for screen readers
  const points = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (points.length === 0) {
    ctx.fillStyle = "#5d6675";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText("no data yet", pad.l, H / 2);
    return;
  }
  let [x0, x1] = [Math.min(...points.map((p) => p[0])), Math.max(...points.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  ctx.font = "11px system-ui, sans-serif";
  ctx.strokeStyle = "#e6e9ee";
  ctx.fillStyle = "#5d6675";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of niceTicks(y0, y1)) {
    ctx.beginPath(); ctx.moveTo(pad.l, sy(t)); ctx.lineTo(W - pad.r, sy(t)); ctx.stroke();
    ctx.fillText(tickText(t), pad.l - 4, sy(t));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(x0, x1)) ctx.fillText(tickText(t), sx(t), H - pad.b + 4);
  ctx.fillText(xLabel, (pad.l + W - pad.r) / 2, H - 13);
  let legendX = pad.l;
  series.forEach((s, i) => {
    const colour = s.colour || SERIES[i % SERIES.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.6;
    ctx.setLineDash(s.dashed ? [5, 3] : []);
    ctx.beginPath();
    pts.forEach(([x, y], k) => (k ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
    ctx.stroke();
    if (pts.length === 1) { ctx.fillStyle = colour; ctx.fillRect(sx(pts[0][0]) - 2, sy(pts[0][1]) - 2, 4, 4); }
    ctx.setLineDash([]);
    // the legend: a short line in the series' style, then its name, under the title
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.font = "11px system-ui, sans-serif";
    ctx.setLineDash(s.dashed ? [4, 2] : []);
    ctx.beginPath(); ctx.moveTo(legendX, 25); ctx.lineTo(legendX + 14, 25); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = colour;
    ctx.fillText(s.label, legendX + 18, 25);
    legendX += 18 + ctx.measureText(s.label).width + 12;
  });
}

// Horizontal bars (probabilities, per-class accuracy) as DOM, so screen readers read them.
// Bars of probabilities (0..1, shown as %), or with `values` of any numbers (a regression's
// outputs), each bar as long as its size against the largest.
export function barList(container, items, { top = false, values = false } = {}) {
  const best = Math.max(...items.map((i) => i.value));
  const scale = values ? Math.max(1e-12, ...items.map((i) => Math.abs(i.value))) : 1;
  container.replaceChildren(
    ...items.map((item) => {
      const row = document.createElement("div");
      row.className = "bar" + (top && item.value === best ? " best" : "");
      row.dataset.label = item.label;
      row.dataset.value = String(item.value);
      const shown = values ? item.value.toPrecision(4) : `${(100 * item.value).toFixed(1)}%`;
      row.setAttribute("aria-label", `${item.label}: ${shown}`);
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="val"></span>';
      row.querySelector(".name").textContent = item.label;
      const share = Math.abs(item.value) / scale;
      row.querySelector(".fill").style.width = `${Math.max(0, Math.min(100, 100 * share))}%`;
      row.querySelector(".val").textContent = shown;
      return row;
    }),
  );
}

// A matrix of numbers as a table; `classOf(i, j)` adds classes to a cell (window, padding...).
export function gridTable(table, m, classOf = () => "", text = (v) => String(round(v, 3))) {
  table.replaceChildren(
    ...m.map((row, i) => {
      const tr = document.createElement("tr");
      row.forEach((v, j) => {
        const td = document.createElement("td");
        td.textContent = v === null || v === undefined ? "" : text(v);
        const cls = classOf(i, j);
        if (cls) td.className = cls;
        tr.append(td);
      });
      return tr;
    }),
  );
}

// Scale a canvas's CSS box so an H×W grid gets square cells, at most `max` CSS pixels wide.
export function fitCanvas(canvas, h, w, max = 200) {
  const cell = Math.max(1, Math.floor(max / Math.max(h, w)));
  canvas.width = Math.max(1, cell * w);
  canvas.height = Math.max(1, cell * h);
  return cell;
}
