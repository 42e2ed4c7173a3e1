// The HTTP API the UI uses: the same routes as FlueClient, with the bearer token when one is set.

const TOKEN_KEY = "flue.token";

export function token() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.type = body?.error?.type;
  }
}

export async function request(method, path, { body, accept, signal, headers } = {}) {
  const init = { method, signal, headers: { ...headers } };
  if (token()) init.headers.authorization = `Bearer ${token()}`;
  if (accept) init.headers.accept = accept;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const payload = await response.json().catch(() => undefined);
    const error = new ApiError(response.status, payload);
    document.dispatchEvent(new CustomEvent("api-error", { detail: error }));
    throw error;
  }
  return response;
}

export async function json(method, path, options) {
  return await (await request(method, path, options)).json();
}

// Server-sent events read with fetch, since EventSource cannot send the Authorization header.
export async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll("\r\n", "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export const path = {
  agent: (name, id) => `/agents/${encodeURIComponent(name)}/${encodeURIComponent(id)}`,
  run: (runId) => `/runs/${encodeURIComponent(runId)}`,
};
