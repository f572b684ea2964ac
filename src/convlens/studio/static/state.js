// The page's state lives in the URL's hash (panel, spec, input shape, data, run...), so a link a
// teacher shares opens the same view. The query string is left to the server's token.

export function readState() {
  return Object.fromEntries(new URLSearchParams(window.location.hash.slice(1)));
}

// Merge `changes` into the hash; an empty or null value removes its key. replaceState keeps the
// back button for real navigation instead of one entry per keystroke.
export function writeState(changes) {
  const params = new URLSearchParams(window.location.hash.slice(1));
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const hash = params.toString();
  const url = window.location.pathname + window.location.search + (hash ? `#${hash}` : "");
  window.history.replaceState(null, "", url);
}

// A tiny shared store: the panels publish what others need (the spec, the runs, the classes).
const listeners = new Map();
const values = new Map();

export function publish(name, value) {
  values.set(name, value);
  for (const fn of listeners.get(name) || []) fn(value);
}

export function subscribe(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
  if (values.has(name)) fn(values.get(name));
}

export function current(name) {
  return values.get(name);
}
