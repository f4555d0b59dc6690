// Output previews: audio with its waveform, video, an image (a before/after slider when the
// upload is known), a transcript with timestamps, plain text.

import { fetchBlob } from "./api.js";
import { h } from "./dom.js";

function drawWaveform(canvas, buffer) {
  const samples = buffer.getChannelData(0);
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const step = Math.max(1, Math.floor(samples.length / width));
  context.clearRect(0, 0, width, height);
  context.fillStyle = getComputedStyle(canvas).color;
  for (let x = 0; x < width; x += 1) {
    let peak = 0;
    for (let i = x * step; i < Math.min((x + 1) * step, samples.length); i += 1) peak = Math.max(peak, Math.abs(samples[i]));
    const bar = Math.max(1, peak * height);
    context.fillRect(x, (height - bar) / 2, 1, bar);
  }
}

async function audioPreview(blob, name) {
  const url = URL.createObjectURL(blob);
  const canvas = h("canvas", { class: "waveform", width: 800, height: 64, role: "img", "aria-label": `${name} waveform` });
  try {
    const context = new OfflineAudioContext(1, 1, 8000);
    drawWaveform(canvas, await context.decodeAudioData(await blob.arrayBuffer()));
  } catch {
    canvas.hidden = true; // a format this browser cannot decode still plays, or downloads
  }
  return h("div", {}, canvas, h("audio", { controls: true, src: url, preload: "metadata", "aria-label": name }));
}

function compare(beforeUrl, afterUrl, name) {
  const after = h("img", { class: "after", src: afterUrl, alt: `${name}, after` });
  const slider = h("input", { type: "range", min: 0, max: 100, value: 50, "aria-label": "before / after" });
  const clip = () => { after.style.clipPath = `inset(0 0 0 ${slider.value}%)`; };
  slider.addEventListener("input", clip);
  clip();
  return h("div", {},
    h("div", { class: "compare" }, h("img", { src: beforeUrl, alt: `${name}, before` }), after),
    slider);
}

function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${String(minutes).padStart(2, "0")}:${(seconds - minutes * 60).toFixed(1).padStart(4, "0")}`;
}

async function transcriptPreview(blob) {
  const transcript = JSON.parse(await blob.text());
  const segments = transcript.segments || [];
  if (!segments.length) return h("p", { "data-result-text": true }, transcript.text || "");
  return h("div", { class: "transcript", "data-result-text": true },
    segments.map((segment) => h("p", {}, h("time", {}, `${clock(segment.start)}–${clock(segment.end)}`), segment.text.trim())));
}

export async function previewOutput(output, { job, before }) {
  const type = output.content_type;
  const previewable = /^(audio|video|image)\//.test(type) || type.startsWith("text/") || type === "application/json";
  if (!previewable) return h("p", {}, `${output.name} (${type})`);
  const blob = await fetchBlob(output.url);
  if (type.startsWith("audio/")) return audioPreview(blob, output.name);
  if (type.startsWith("video/")) return h("video", { controls: true, src: URL.createObjectURL(blob), "aria-label": output.name });
  if (type.startsWith("image/")) {
    const url = URL.createObjectURL(blob);
    const target = before && before.target;
    if (job.pipeline.startsWith("face-") && target && target.type.startsWith("image/")) {
      return compare(URL.createObjectURL(target), url, output.name);
    }
    return h("img", { src: url, alt: output.name });
  }
  if (type === "application/json" && output.name.startsWith("transcript")) return transcriptPreview(blob);
  if (type === "application/json") return h("pre", {}, JSON.stringify(JSON.parse(await blob.text()), null, 2));
  return h("pre", {}, await blob.text());
}
