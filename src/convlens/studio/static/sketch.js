// A drawing pad in MNIST's colours: white strokes on black with a thick round brush.

// Read an image source (a canvas or a decoded picture) as an h×w grid of grey values in [0, 1],
// with the browser's smoothing doing the downsampling.
export function greyGrid(source, h, w, digits = 3) {
  const scratch = new OffscreenCanvas(w, h);
  const ctx = scratch.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  const scale = 10 ** digits;
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = [];
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      // ITU-R BT.601 luma weights, as PIL's convert("L") uses
      const luma = (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]) / 255;
      row.push(Math.round(luma * scale) / scale);
    }
    rows.push(row);
  }
  return rows;
}

// A File from an <input type=file> as a decoded image and its data: URL.
export function readImageFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.onload = () => {
      const image = new Image();
      image.onload = () => resolve({ image, dataUrl: reader.result });
      image.onerror = () => reject(new Error(`${file.name} is not an image the browser can decode.`));
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}

export function sketchpad(canvas, { brush = 22, onStroke = () => {}, onStrokeEnd = () => {} } = {}) {
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let last = null;
  let inked = false;

  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    inked = false;
  };
  const at = (e) => {
    const rect = canvas.getBoundingClientRect();
    return [((e.clientX - rect.left) * canvas.width) / rect.width, ((e.clientY - rect.top) * canvas.height) / rect.height];
  };
  const line = (from, to) => {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = brush;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
    inked = true;
  };
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true;
    last = at(e);
    line(last, last);
    canvas.setPointerCapture?.(e.pointerId);
    onStroke();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const p = at(e);
    line(last, p);
    last = p;
    onStroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onStrokeEnd();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);
  clear();
  return { clear, grid: (h, w, digits) => greyGrid(canvas, h, w, digits), isEmpty: () => !inked };
}
