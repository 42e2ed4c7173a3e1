// The chat tab: agent, instance and session pickers, the stored history, a streamed prompt with tool calls, abort,
// and the event timeline of the current operation.

import { events, json, path, request } from "./api.js";
import { $, describeEvent, element } from "./dom.js";

let controller;

export async function initChat(manifest) {
  const agents = manifest.agents.map((agent) => agent.name);
  $("#agent").replaceChildren(...agents.map((name) => element("option", { value: name }, name)));
  if (agents.length === 0) $("#messages").append(element("p", { class: "dim" }, "This project has no agents."));
  $("#agent").addEventListener("change", () => loadSessions());
  $("#instance").addEventListener("change", () => loadSessions());
  $("#session").addEventListener("change", () => loadHistory());
  $("#new-session").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !event.target.value.trim()) return;
    event.preventDefault();
    const name = event.target.value.trim();
    $("#session").append(element("option", { value: name }, name));
    $("#session").value = name;
    event.target.value = "";
    loadHistory();
  });
  $("#prompt-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });
  $("#message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) void send();
  });
  $("#abort").addEventListener("click", () => void abort());
  if (agents.length) await loadSessions();
}

function target() {
  return {
    agent: $("#agent").value,
    id: $("#instance").value.trim() || "dev",
    session: $("#session").value || "default",
  };
}

async function loadSessions() {
  const { agent, id } = target();
  const { sessions } = await json("GET", `${path.agent(agent, id)}/sessions`);
  const names = sessions.includes("default") ? sessions : ["default", ...sessions];
  const current = $("#session").value;
  $("#session").replaceChildren(...names.map((name) => element("option", { value: name }, name)));
  if (names.includes(current)) $("#session").value = current;
  await loadHistory();
}

async function loadHistory() {
  const { agent, id, session } = target();
  const page = await json("GET", `${path.agent(agent, id)}/history?session=${encodeURIComponent(session)}`);
  $("#messages").replaceChildren();
  for (const entry of page.entries) renderStored(entry.message);
}

function renderStored(message) {
  if (message.role === "user" || message.role === "assistant") {
    const text = typeof message.content === "string"
      ? message.content
      : (message.content ?? []).map((part) => part.text ?? "").join("");
    if (text) $("#messages").append(element("div", { class: `message ${message.role}` }, text));
    for (const call of message.toolCalls ?? []) {
      $("#messages").append(element("div", { class: "tool" }, `→ ${call.name} ${call.arguments}`));
    }
  } else if (message.role === "tool") {
    const text = typeof message.content === "string" ? message.content : JSON.stringify(message.content);
    const mark = message.isError ? "✗" : "✓";
    $("#messages").append(element("div", { class: "tool" }, `${mark} ${message.name}: ${text.slice(0, 400)}`));
  }
}

async function send() {
  const message = $("#message").value;
  if (!message.trim() || controller) return;
  const { agent, id, session } = target();
  $("#message").value = "";
  $("#messages").append(element("div", { class: "message user" }, message));
  const answer = element("div", { class: "message assistant" }, "");
  $("#messages").append(answer);
  $("#timeline").replaceChildren();
  controller = new AbortController();
  $("#abort").disabled = false;
  $("#send").disabled = true;
  try {
    const response = await request("POST", path.agent(agent, id), {
      body: { message, session },
      accept: "text/event-stream",
      signal: controller.signal,
    });
    for await (const { event, data } of events(response)) {
      if (event === "result") {
        const result = data.result;
        if (result.data !== undefined) {
          answer.append(element("pre", { class: "dim" }, JSON.stringify(result.data, null, 2)));
        }
        if (!answer.firstChild) answer.textContent = result.text;
        continue;
      }
      if (event === "failed") {
        answer.classList.add("failed");
        answer.append(`${data.error.type}: ${data.error.message}`);
        continue;
      }
      $("#timeline").append(element("li", {}, describeEvent(data)));
      if (data.type === "text_delta") answer.append(data.text);
      else if (data.type === "tool_start") {
        answer.before(element("div", { class: "tool" }, `→ ${data.toolName} ${JSON.stringify(data.args)}`));
      } else if (data.type === "tool_end") {
        answer.before(
          element(
            "div",
            { class: "tool" },
            `${data.isError ? "✗" : "✓"} ${data.toolName}: ${String(data.result).slice(0, 400)}`,
          ),
        );
      } else if (data.type === "aborted") {
        answer.classList.add("failed");
        answer.append(`\n[aborted${data.reason ? `: ${data.reason}` : ""}]`);
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") {
      answer.classList.add("failed");
      answer.append(String(error.message));
    }
  } finally {
    controller = undefined;
    $("#abort").disabled = true;
    $("#send").disabled = false;
  }
}

async function abort() {
  const { agent, id, session } = target();
  await json("POST", `${path.agent(agent, id)}/abort`, { body: { session } });
}
