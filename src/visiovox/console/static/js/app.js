// The console's shell: the API key, the notice line, and the page named in the URL's hash.

import { apiKey, consoleConfig, setApiKey } from "./api.js";
import { showJob } from "./job_view.js";
import { showAssistant } from "./live_assistant.js";
import { showFaceSwap } from "./live_face_swap.js";
import { showVoice } from "./live_voice.js";
import { showJobs, showModels, showWorkers } from "./lists.js";
import { showPipelines } from "./pipelines.js";

const PAGES = {
  pipelines: showPipelines,
  jobs: showJobs,
  workers: showWorkers,
  models: showModels,
  "live-assistant": showAssistant,
  "live-face-swap": showFaceSwap,
  "live-voice": showVoice,
};

const main = document.getElementById("main");
const notice = document.getElementById("notice");
let needsKey = false;
// Aborted when the page changes: stops its polling, streams and devices.
let leaving = new AbortController();

function notify(message) {
  notice.textContent = message || "";
}

function route() {
  leaving.abort();
  leaving = new AbortController();
  notify("");
  const [, page = "pipelines", argument] = location.hash.split("?")[0].split("/");
  for (const link of document.querySelectorAll("nav a")) {
    const current = link.dataset.page === page || (page === "job" && link.dataset.page === "jobs");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // Each page draws into its own view: one still finishing after the page changed
  // draws into a view no longer shown.
  const view = document.createElement("div");
  main.replaceChildren(view);
  if (needsKey && !apiKey()) {
    notify("Enter your API key above to use this deployment.");
    document.getElementById("api-key").focus();
    return;
  }
  const show = page === "job" ? showJob : PAGES[page] || showPipelines;
  const { signal } = leaving;
  // A page's messages only while it is shown.
  const notifyPage = (message) => {
    if (!signal.aborted) notify(message);
  };
  show(view, { argument, signal, notify: notifyPage }).catch((error) => {
    if (error.name !== "AbortError") notifyPage(error.message);
  });
}

async function start() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  needsKey = (await consoleConfig()).auth;
  form.hidden = !needsKey;
  input.value = apiKey();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    route();
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
