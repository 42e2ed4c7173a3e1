// The dispatches tab: the queue by status, with replay for dead dispatches.

import { json } from "./api.js";
import { $, element } from "./dom.js";

export async function initDispatches() {
  $("#refresh-dispatches").addEventListener("click", () => void loadDispatches());
  $("#dispatch-status").addEventListener("change", () => void loadDispatches());
  await loadDispatches();
}

export async function loadDispatches() {
  const status = $("#dispatch-status").value;
  const { dispatches } = await json("GET", `/dispatches?limit=200${status ? `&status=${status}` : ""}`);
  $("#dispatch-rows").replaceChildren(...dispatches.map((dispatch) => {
    const action = element("td");
    if (dispatch.status === "dead") {
      const button = element("button", { type: "button", class: "replay" }, "Replay");
      button.addEventListener("click", async () => {
        button.disabled = true;
        await json("POST", `/dispatches/${encodeURIComponent(dispatch.dispatchId)}/replay`);
        await loadDispatches();
      });
      action.append(button);
    }
    return element(
      "tr",
      { "data-dispatch-id": dispatch.dispatchId },
      element("td", {}, dispatch.dispatchId),
      element("td", {}, `${dispatch.agent} / ${dispatch.id} / ${dispatch.session}`),
      element("td", { class: `status-${dispatch.status}` }, dispatch.status),
      element("td", {}, String(dispatch.attempts?.length ?? dispatch.attempt ?? "")),
      element("td", { class: "dim" }, dispatch.error?.message ?? dispatch.lastError?.message ?? ""),
      action,
    );
  }));
}
