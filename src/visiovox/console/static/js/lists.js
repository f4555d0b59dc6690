// The jobs list (filters, paging), workers and models pages, each refreshed every few seconds.

import { getJson } from "./api.js";
import { h, humanSize, table } from "./dom.js";

const REFRESH_MS = 3000;
const STATUSES = ["", "queued", "running", "succeeded", "failed", "canceled"];

// Run `draw` now and every REFRESH_MS until `signal` aborts; errors go to the notice line.
async function poll(signal, notify, draw) {
  while (!signal.aborted) {
    try {
      await draw();
    } catch (error) {
      if (error.name === "AbortError") return;
      notify(error.message);
    }
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

export async function showJobs(main, { signal, notify }) {
  const status = h("select", { id: "filter-status" }, STATUSES.map((s) => h("option", { value: s }, s || "any")));
  const pipeline = h("input", { type: "text", id: "filter-pipeline", placeholder: "any" });
  const previous = h("button", { type: "button", class: "secondary" }, "Newer");
  const next = h("button", { type: "button", class: "secondary" }, "Older");
  const holder = h("div", { "aria-live": "polite" });
  // The cursors of the pages shown before this one (the first page has none).
  let cursors = [];
  let nextCursor = null;
  const draw = async () => {
    const query = new URLSearchParams({ limit: "20" });
    if (status.value) query.set("status", status.value);
    if (pipeline.value.trim()) query.set("pipeline", pipeline.value.trim());
    if (cursors.length) query.set("cursor", cursors[cursors.length - 1]);
    const page = await getJson(`v1/jobs?${query}`, { signal });
    nextCursor = page.next_cursor;
    previous.disabled = !cursors.length;
    next.disabled = !nextCursor;
    holder.replaceChildren(table([
      ["Job", (job) => h("a", { href: `#/job/${job.id}` }, job.id.slice(0, 12))],
      ["Pipeline", (job) => job.pipeline],
      ["Status", (job) => h("span", { class: `status-${job.status}` }, job.status)],
      ["Progress", (job) => `${Math.round(job.progress.percent)}%`],
      ["Created", (job) => job.created_at.replace("T", " ").slice(0, 19)],
    ], page.data));
  };
  const restart = () => { cursors = []; draw().catch((error) => notify(error.message)); };
  status.addEventListener("change", restart);
  pipeline.addEventListener("change", restart);
  next.addEventListener("click", () => { cursors.push(nextCursor); draw(); });
  previous.addEventListener("click", () => { cursors.pop(); draw(); });
  main.append(
    h("h2", {}, "Jobs"),
    h("div", { class: "row" },
      h("label", { for: "filter-status" }, "Status"), status,
      h("label", { for: "filter-pipeline" }, "Pipeline"), pipeline,
      previous, next),
    holder,
  );
  await poll(signal, notify, draw);
}

function engines(worker) {
  return worker.engines.map((engine) => engine.name || engine.engine || JSON.stringify(engine)).join(", ");
}

function liveSession(worker) {
  const live = worker.live_session;
  if (!live) return "";
  return `${live.frames_out}/${live.frames_in} frames, ${live.dropped} dropped, p50 ${live.latency_ms_p50.toFixed(0)} ms`;
}

export async function showWorkers(main, { signal, notify }) {
  const holder = h("div", { "aria-live": "polite" });
  main.append(h("h2", {}, "Workers"), holder);
  await poll(signal, notify, async () => {
    const { data } = await getJson("v1/workers", { signal });
    holder.replaceChildren(table([
      ["Name", (w) => w.name],
      ["State", (w) => w.state],
      ["Device", (w) => `${w.device}${w.device_name ? ` (${w.device_name})` : ""}`],
      ["Memory free / total", (w) => `${humanSize(w.memory_free_bytes)} / ${humanSize(w.memory_total_bytes)}`],
      ["Engines", engines],
      ["Current job", (w) => (w.current_job ? h("a", { href: `#/job/${w.current_job}` }, w.current_job.slice(0, 12)) : "")],
      ["Live session", liveSession],
    ], data));
  });
}

export async function showModels(main, { signal, notify }) {
  const holder = h("div", { "aria-live": "polite" });
  main.append(h("h2", {}, "Models"), holder);
  await poll(signal, notify, async () => {
    const { data } = await getJson("v1/models", { signal });
    holder.replaceChildren(table([
      ["Model", (m) => m.id],
      ["Task", (m) => m.task],
      ["Engine", (m) => m.engine],
      ["Size", (m) => humanSize(m.size)],
      ["Licence", (m) => `${m.license}${m.non_commercial ? " (non-commercial)" : ""}`],
      ["Installed", (m) => (m.installed ? "yes" : `no: visiovox models pull ${m.id}`)],
    ], data));
  });
}
