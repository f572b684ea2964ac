// Every request the page makes goes through here, to the server that served the page and to no
// other host. A server on a non-loopback interface hands out a token in the page's URL; it is
// appended to every request, the event stream included.

const token = new URLSearchParams(window.location.search).get("token");

export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) query.set(key, String(value));
  }
  if (token) query.set("token", token);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// The server's one sentence for a refused request, with its HTTP status.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function send(method, path, body, params, signal) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiUrl(path, params), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("The studio server did not answer; is `convlens studio` still running?", 0);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const sentence = data && data.error ? data.error : `The server answered ${response.status}.`;
    throw new ApiError(sentence, response.status);
  }
  return data;
}

export const get = (path, params, signal) => send("GET", path, undefined, params, signal);
export const post = (path, body, signal) => send("POST", path, body, undefined, signal);

export function events(path) {
  return new EventSource(apiUrl(path));
}

// Latest wins: each call aborts the previous one still in flight, and only the newest answer
// reaches `onResult`, so a fast typist never sees an older table overwrite a newer one.
export function latest(request, onResult, onError) {
  let controller = null;
  let serial = 0;
  return (...args) => {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = ++serial;
    return request(controller.signal, ...args).then(
      (result) => { if (mine === serial) onResult(result, ...args); },
      (err) => { if (mine === serial && err.name !== "AbortError") onError(err, ...args); },
    );
  };
}

// Wait `ms` after the last call before running `fn` (typing, strokes).
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Run `fn` at most once every `ms`, always ending with the last call's arguments.
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return (...args) => {
    const wait = last + ms - performance.now();
    clearTimeout(timer);
    if (wait <= 0) {
      last = performance.now();
      fn(...args);
    } else {
      timer = setTimeout(() => { last = performance.now(); fn(...args); }, wait);
    }
  };
}

// POST and save the answer as the file the server names (Content-Disposition).
export async function download(path, body) {
  const response = await fetch(apiUrl(path), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(data && data.error ? data.error : `The server answered ${response.status}.`, response.status);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : "convlens-export";
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  return { name, size: blob.size };
}
