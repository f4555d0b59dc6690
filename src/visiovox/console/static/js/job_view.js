// A job: status, progress and stage from its SSE stream, the event log, previews, downloads, cancel.

import { cancelJob, fetchBlob, getJson, jobEvents } from "./api.js";
import { h } from "./dom.js";
import { previewOutput } from "./previews.js";

// The files this page uploaded, by job id: a face swap's target is the "before" of its slider.
const uploads = new Map();

export function rememberUploads(jobId, files) {
  uploads.set(jobId, files);
}

function describe(event) {
  const data = event.data || {};
  const parts = Object.entries(data)
    .filter(([, value]) => value !== null && value !== "" && typeof value !== "object")
    .map(([key, value]) => `${key}=${value}`);
  return `${event.ts ? event.ts.slice(11, 23) : ""} ${event.type} ${parts.join(" ")}`.trim();
}

function downloadButton(output) {
  return h("button", {
    type: "button", class: "secondary",
    onclick: async () => {
      const link = h("a", { href: URL.createObjectURL(await fetchBlob(output.url)), download: output.name });
      link.click();
      URL.revokeObjectURL(link.href);
    },
  }, `Download ${output.name}`);
}

function resultText(job) {
  const result = job.result || {};
  const text = result.text ?? result.response ?? result.content;
  return typeof text === "string" ? h("section", { class: "chat" }, h("h3", {}, "Text"), h("p", { "data-result-text": true }, text)) : null;
}

async function renderOutputs(holder, job, signal) {
  holder.replaceChildren();
  if (job.error) holder.append(h("p", { class: "error", role: "alert" }, `${job.error.code}: ${job.error.message}`));
  const text = resultText(job);
  if (text) holder.append(text);
  for (const output of job.outputs) {
    if (signal.aborted) return;
    const figure = await previewOutput(output, { job, before: uploads.get(job.id), signal });
    holder.append(h("figure", {}, figure, h("figcaption", { class: "row" }, downloadButton(output))));
  }
  if (job.result) holder.append(h("details", {}, h("summary", {}, "Result"), h("pre", {}, JSON.stringify(job.result, null, 2))));
}

export async function showJob(main, { argument: jobId, signal, notify }) {
  let job = await getJson(`v1/jobs/${jobId}`, { signal });
  const status = h("output", { id: "job-status", class: `status-${job.status}` }, job.status);
  const stage = h("output", { id: "job-stage" }, job.progress.stage || "");
  const bar = h("progress", { id: "job-progress", max: 100, value: job.progress.percent, "aria-label": "progress" });
  const log = h("div", { class: "log", role: "log", "aria-label": "events", tabindex: 0 });
  const outputs = h("section", { class: "outputs", "aria-label": "outputs", id: "job-outputs" });
  const cancel = h("button", {
    type: "button", class: "secondary", disabled: ["succeeded", "failed", "canceled"].includes(job.status),
    onclick: async () => {
      try {
        await cancelJob(jobId);
      } catch (error) {
        notify(error.message);
      }
    },
  }, "Cancel");
  main.append(
    h("h2", {}, `${job.pipeline} job`),
    h("p", {}, h("code", {}, job.id)),
    h("div", { class: "figures" }, h("span", {}, "Status ", status), h("span", {}, "Stage ", stage), cancel),
    bar,
    h("h3", {}, "Events"), log,
    h("h3", {}, "Outputs"), outputs,
  );
  for await (const event of jobEvents(jobId, signal)) {
    log.append(h("p", {}, describe(event)));
    log.scrollTop = log.scrollHeight;
    if (event.type === "progress") {
      bar.value = event.data.percent ?? bar.value;
      stage.textContent = event.data.stage || event.data.message || stage.textContent;
    } else if (event.type === "started" || event.type === "stage") {
      stage.textContent = event.data.stage || event.type;
      status.textContent = "running";
    }
  }
  job = await getJson(`v1/jobs/${jobId}`, { signal });
  status.textContent = job.status;
  status.className = `status-${job.status}`;
  if (job.status === "succeeded") bar.value = 100;
  cancel.disabled = true;
  await renderOutputs(outputs, job, signal);
}
