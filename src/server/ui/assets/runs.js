// The runs tab: start a workflow with a form built from its payload schema (from /openapi.json), list runs with a
// status filter and pages, and follow one run's events live.

import { events, json, path, request } from "./api.js";
import { $, describeEvent, element } from "./dom.js";

let openapi;
let nextCursor;
let following;

export async function initRuns(manifest, document) {
  openapi = document;
  const names = manifest.workflows.map((workflow) => workflow.name);
  $("#workflow").replaceChildren(...names.map((name) => element("option", { value: name }, name)));
  if (names.length === 0) {
    $("#workflow-form").hidden = true;
    $("#workflow-form").before(element("p", { class: "dim" }, "This project has no workflows."));
  }
  $("#workflow").addEventListener("change", renderPayloadForm);
  renderPayloadForm();
  $("#workflow-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void startRun();
  });
  $("#refresh-runs").addEventListener("click", () => void loadRuns());
  $("#run-status").addEventListener("change", () => void loadRuns());
  $("#more-runs").addEventListener("click", () => void loadRuns(nextCursor));
  await loadRuns();
}

function payloadSchema(name) {
  const operation = openapi.paths[`/workflows/${name}`]?.post;
  const ref = operation?.requestBody?.content?.["application/json"]?.schema?.$ref;
  return ref ? openapi.components.schemas[ref.split("/").pop()] : undefined;
}

// Object schemas of simple fields become inputs; anything else is a JSON text area.
function renderPayloadForm() {
  const schema = payloadSchema($("#workflow").value);
  const fields = $("#payload-fields");
  fields.replaceChildren();
  const properties = schema?.type === "object" ? Object.entries(schema.properties ?? {}) : undefined;
  const simple = properties?.every(([, field]) =>
    ["string", "number", "integer", "boolean"].includes(field.type) || field.enum
  );
  if (!properties || !simple) {
    fields.append(element("label", {}, "Payload (JSON)", element("textarea", { id: "payload-json", rows: "5" }, "")));
    fields.dataset.mode = "json";
    return;
  }
  fields.dataset.mode = "form";
  for (const [name, field] of properties) {
    const required = (schema.required ?? []).includes(name);
    let input;
    if (field.enum) {
      input = element("select", {}, ...field.enum.map((value) => element("option", { value }, String(value))));
    } else if (field.type === "boolean") {
      input = element("input", { type: "checkbox" });
    } else {
      input = element("input", { type: field.type === "string" ? "text" : "number" });
      if (field.default !== undefined) input.placeholder = String(field.default);
    }
    input.name = name;
    input.dataset.type = field.type ?? "string";
    if (required) input.required = true;
    fields.append(
      element(
        "label",
        {},
        `${name}${required ? " *" : ""}${field.description ? ` (${field.description})` : ""}`,
        input,
      ),
    );
  }
}

function readPayload() {
  const fields = $("#payload-fields");
  if (fields.dataset.mode === "json") {
    const text = $("#payload-json").value.trim();
    return text === "" ? undefined : JSON.parse(text);
  }
  const payload = {};
  for (const input of fields.querySelectorAll("input, select")) {
    if (input.type === "checkbox") payload[input.name] = input.checked;
    else if (input.value === "") continue;
    else if (input.dataset.type === "number" || input.dataset.type === "integer") {
      payload[input.name] = Number(input.value);
    } else payload[input.name] = input.value;
  }
  return payload;
}

async function startRun() {
  let payload;
  try {
    payload = readPayload();
  } catch (error) {
    $("#run-title").textContent = `The payload is not JSON: ${error.message}`;
    return;
  }
  const { runId } = await json("POST", `/workflows/${encodeURIComponent($("#workflow").value)}`, { body: payload });
  await loadRuns();
  void follow(runId);
}

async function loadRuns(cursor) {
  const params = new URLSearchParams({ limit: "25" });
  if ($("#run-status").value) params.set("status", $("#run-status").value);
  if (cursor) params.set("cursor", cursor);
  const page = await json("GET", `/runs?${params}`);
  if (!cursor) $("#run-list").replaceChildren();
  for (const run of page.runs) {
    const item = element(
      "li",
      { "data-run-id": run.runId },
      element("span", { class: `status-${run.status}` }, run.status),
      ` ${run.workflow} `,
      element("span", { class: "dim" }, `${run.startedAt.slice(11, 19)} ${run.runId.slice(-8)}`),
    );
    item.addEventListener("click", () => void follow(run.runId));
    $("#run-list").append(item);
  }
  nextCursor = page.nextCursor;
  $("#more-runs").hidden = !nextCursor;
}

async function follow(runId) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  for (const item of $("#run-list").children) item.classList.toggle("selected", item.dataset.runId === runId);
  $("#run-title").textContent = runId;
  $("#run-result").textContent = "";
  $("#run-events").replaceChildren();
  try {
    const response = await request("GET", `${path.run(runId)}/stream`, {
      accept: "text/event-stream",
      signal: controller.signal,
    });
    for await (const { data } of events(response)) {
      $("#run-events").append(element("li", { "data-type": data.type }, describeEvent(data)));
      if (data.type === "run_end") break;
    }
    const run = await json("GET", path.run(runId));
    $("#run-result").textContent = run.status === "failed"
      ? `failed: ${run.error?.message}`
      : `${run.status}: ${JSON.stringify(run.result, null, 2)}`;
    const item = $(`#run-list li[data-run-id="${CSS.escape(runId)}"] span`);
    if (item) {
      item.textContent = run.status;
      item.className = `status-${run.status}`;
    }
  } catch (error) {
    if (error.name !== "AbortError") $("#run-result").textContent = String(error.message);
  }
}
