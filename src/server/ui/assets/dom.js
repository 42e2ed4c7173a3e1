// Small DOM helpers shared by the tabs.

export function $(selector) {
  return document.querySelector(selector);
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function describeEvent(event) {
  const index = event.eventIndex ?? "";
  switch (event.type) {
    case "text_delta":
      return `${index} text ${JSON.stringify(event.text)}`;
    case "tool_start":
      return `${index} tool_start ${event.toolName} ${JSON.stringify(event.args)}`;
    case "tool_end":
      return `${index} tool_end ${event.toolName} ${String(event.result).slice(0, 200)}`;
    case "log":
      return `${index} log [${event.level}] ${event.message}`;
    case "error":
      return `${index} error ${event.error?.message}`;
    case "run_end":
      return `${index} run_end ${event.isError ? "failed" : "done"} ${Math.round(event.durationMs)} ms`;
    default:
      return `${index} ${event.type}`;
  }
}
