// JSON calls to the chatd API with the session cookie and Django's CSRF token.

export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 || response.status === 403) {
    if (response.status === 401) window.location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.detail ?? `${method} ${path} failed (${response.status})`, data?.code);
  }
  return data;
}

export function formatUsd(micros) {
  if (micros === null || micros === undefined) return "unpriced";
  const dollars = micros / 1e6;
  return `$${dollars.toFixed(micros >= 100 || micros === 0 ? 4 : 6)}`;
}

export async function upload(file) {
  const body = new FormData();
  body.append("file", file, file.name || "pasted");
  const response = await fetch("/api/files/", {
    method: "POST",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    credentials: "same-origin",
    body,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = response.status === 413 ? "too large (10 MiB at most)" : data?.detail;
    throw new ApiError(response.status, detail ?? `upload failed (${response.status})`, data?.code);
  }
  return data;
}
