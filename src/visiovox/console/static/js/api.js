// The API as the console calls it: the key in Authorization (on WebSockets ?api_key=),
// errors as {code, message}, uploads with progress, a job's SSE stream read with fetch.

const KEY_STORAGE = "visiovox.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function authHeaders(extra = {}) {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}`, ...extra } : { ...extra };
}

async function failure(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.error.code, body.error.message);
  } catch {
    return new ApiError(response.status, `http_${response.status}`, response.statusText);
  }
}

export async function getJson(path, options = {}) {
  const response = await fetch(path, { ...options, headers: authHeaders(options.headers) });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function consoleConfig() {
  const response = await fetch("console/config.json");
  return response.json();
}

export async function fetchBlob(url) {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

export function cancelJob(jobId) {
  return getJson(`v1/jobs/${jobId}`, { method: "DELETE" });
}

// POST a job (a FormData with files, else JSON); onProgress(sentFraction) while it uploads.
export function submitJob(pipeline, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `v1/jobs/${encodeURIComponent(pipeline)}`);
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    if (!(body instanceof FormData)) request.setRequestHeader("Content-Type", "application/json");
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const answer = request.response;
      if (request.status === 202) resolve(answer);
      else if (answer && answer.error) reject(new ApiError(request.status, answer.error.code, answer.error.message));
      else reject(new ApiError(request.status, `http_${request.status}`, request.statusText));
    };
    request.onerror = () => reject(new ApiError(0, "unreachable", "the gateway did not answer"));
    request.send(body instanceof FormData ? body : JSON.stringify(body));
  });
}

function parseFrame(text) {
  const frame = { id: null, type: "message", data: [] };
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "data") frame.data.push(value);
    else if (name === "id") frame.id = value;
    else if (name === "event") frame.type = value;
  }
  return frame.data.length ? { id: frame.id, type: frame.type, body: JSON.parse(frame.data.join("\n")) } : null;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

// The job's events to its terminal one (fetch, so the key travels in a header); resumes
// from the last id after a break. Stops when `signal` aborts.
export async function* jobEvents(jobId, signal) {
  let after = null;
  for (;;) {
    const headers = authHeaders(after ? { "Last-Event-ID": after } : {});
    const response = await fetch(`v1/jobs/${jobId}/events`, { headers, signal });
    if (!response.ok) throw await failure(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!frame || frame.type === "error") continue;
        after = frame.id;
        yield frame.body;
        if (TERMINAL.has(frame.type)) return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// A WebSocket to `path` on this origin, the key as ?api_key= (browsers send no headers there).
export function openSocket(path) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const key = apiKey();
  if (key) url.searchParams.set("api_key", key);
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  return socket;
}
