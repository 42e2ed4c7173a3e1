// The development UI's entry: tabs, the token prompt, the error banner, and the three tabs.

import { json, setToken, token } from "./api.js";
import { initChat } from "./chat.js";
import { initDispatches, loadDispatches } from "./dispatches.js";
import { $ } from "./dom.js";
import { initRuns } from "./runs.js";

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("nav button")) other.classList.toggle("active", other === button);
    for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== button.dataset.tab;
    if (button.dataset.tab === "dispatches") void loadDispatches();
  });
}

document.addEventListener("api-error", (event) => {
  const error = event.detail;
  if (error.status === 401) {
    $("#token-form").hidden = false;
    $("#status").textContent = token() ? "The token was refused" : "This server needs its token";
    return;
  }
  showBanner(`${error.status} ${error.type ?? ""}: ${error.message}`);
});

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken($("#token").value.trim());
  location.reload();
});

function showBanner(text) {
  $("#banner").hidden = false;
  $("#banner").textContent = text;
}

async function start() {
  try {
    const [manifest, openapi] = await Promise.all([json("GET", "/agents"), json("GET", "/openapi.json")]);
    $("#status").textContent = `${manifest.agents.length} agents, ${manifest.workflows.length} workflows`;
    await Promise.all([initChat(manifest), initRuns(manifest, openapi), initDispatches()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (error.status !== 401) showBanner(String(error.message));
  }
}

void start();
