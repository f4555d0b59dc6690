// The live face swap: a source photo, the webcam drawn to a canvas and sent as JPEG over
// WS /v1/live/face-swap, the swapped frames drawn as they return; fps, latency and drops.

import { openSocket } from "./api.js";
import { h } from "./dom.js";

// Frames sent and not yet answered (or dropped) before the next one waits.
const IN_FLIGHT = 2;

function choice(id, label, values, chosen) {
  const select = h("select", { id }, values.map((value) => h("option", { value, selected: String(value) === String(chosen) }, value)));
  return [h("label", { for: id }, label), select];
}

export async function showFaceSwap(main, { signal, notify }) {
  const source = h("input", { type: "file", id: "swap-source", accept: "image/*" });
  const [widthLabel, width] = choice("swap-width", "Width", [320, 480, 640], 480);
  const [qualityLabel, quality] = choice("swap-quality", "JPEG quality", [60, 70, 80, 90], 80);
  const [fpsLabel, maxFps] = choice("swap-fps", "Max fps", [5, 10, 15, 30], 15);
  const start = h("button", { type: "button", id: "swap-start" }, "Start camera");
  const stop = h("button", { type: "button", class: "secondary", disabled: true }, "Stop");
  const camera = h("video", { autoplay: true, muted: true, playsinline: true, "aria-label": "your camera" });
  const output = h("canvas", { id: "swap-output", width: 480, height: 360, role: "img", "aria-label": "swapped stream" });
  const fps = h("output", { id: "swap-fps-shown" }, "0");
  const latency = h("output", { id: "swap-latency" }, "–");
  const drops = h("output", { id: "swap-drops" }, "0");
  const state = h("output", { id: "swap-state" }, "idle");
  main.append(
    h("h2", {}, "Live face swap"),
    h("div", { class: "row" }, h("label", { for: "swap-source" }, "Source face"), source),
    h("div", { class: "row" }, widthLabel, width, qualityLabel, quality, fpsLabel, maxFps, start, stop),
    h("div", { class: "figures" },
      h("span", {}, "State ", state), h("span", {}, "fps ", fps),
      h("span", {}, "Latency ", latency, " ms"), h("span", {}, "Dropped ", drops)),
    h("div", { class: "live-video" }, camera, output),
  );
  let socket = null;
  let stream = null;
  let timer = null;
  let ready = false;
  let inFlight = 0;
  let dropped = 0;
  const sentAt = new Map();
  let seq = 0;
  let pending = null; // the metadata of the frame whose JPEG comes next
  let answered = []; // times of answers in the last second
  const canvas = h("canvas");
  const close = () => {
    clearInterval(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end_session" }));
    stream = null;
    ready = false;
    start.disabled = false;
    stop.disabled = true;
    state.textContent = "idle";
  };
  const sendFrame = () => {
    if (!ready || inFlight >= IN_FLIGHT || camera.videoWidth === 0) return;
    canvas.width = Number(width.value);
    canvas.height = Math.round((canvas.width * camera.videoHeight) / camera.videoWidth);
    canvas.getContext("2d").drawImage(camera, 0, 0, canvas.width, canvas.height);
    inFlight += 1;
    canvas.toBlob((blob) => {
      if (!blob || !socket || socket.readyState !== WebSocket.OPEN) return;
      sentAt.set(seq, performance.now());
      seq += 1;
      socket.send(blob);
    }, "image/jpeg", Number(quality.value) / 100);
  };
  const drawFrame = async (jpeg) => {
    const bitmap = await createImageBitmap(new Blob([jpeg], { type: "image/jpeg" }));
    output.width = bitmap.width;
    output.height = bitmap.height;
    output.getContext("2d").drawImage(bitmap, 0, 0);
    const now = performance.now();
    answered = answered.filter((at) => now - at < 1000).concat(now);
    fps.textContent = String(answered.length);
    if (pending && sentAt.has(pending.seq)) {
      latency.textContent = `${Math.round(now - sentAt.get(pending.seq))} (worker ${Math.round(pending.latency_ms)})`;
      sentAt.delete(pending.seq);
    }
    pending = null;
  };
  const onMessage = (message) => {
    if (message.type === "ready") { ready = true; state.textContent = "streaming"; }
    else if (message.type === "frame") { pending = message; inFlight = Math.max(0, inFlight - 1); }
    else if (message.type === "dropped") {
      dropped += message.seqs.length;
      inFlight = Math.max(0, inFlight - message.seqs.length);
      message.seqs.forEach((number) => sentAt.delete(number));
      drops.textContent = String(dropped);
    } else if (message.type === "error") {
      inFlight = 0; // a refused frame gets no answer
      notify(`${message.code}: ${message.message || ""}`);
    } else if (message.type === "session_ended") close();
  };
  start.addEventListener("click", async () => {
    if (!source.files.length) {
      notify("Choose a source face first.");
      source.focus();
      return;
    }
    notify("");
    start.disabled = true;
    stop.disabled = false;
    state.textContent = "starting camera";
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    } catch (error) {
      notify(`Camera: ${error.message}`);
      close();
      return;
    }
    camera.srcObject = stream;
    socket = openSocket("v1/live/face-swap");
    socket.onopen = async () => {
      socket.send(JSON.stringify({ type: "start_session", jpeg_quality: Number(quality.value), max_fps: Number(maxFps.value) }));
      socket.send(await source.files[0].arrayBuffer());
      state.textContent = "preparing";
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") onMessage(JSON.parse(event.data));
      else drawFrame(event.data).catch((error) => notify(`Frame: ${error.message}`));
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) notify(`The session closed: ${event.code} ${event.reason}`);
      close();
    };
    timer = setInterval(sendFrame, 1000 / Number(maxFps.value));
  });
  stop.addEventListener("click", close);
  signal.addEventListener("abort", () => {
    if (socket) socket.onclose = null; // leaving the tab is no failure to report
    close();
    socket?.close();
  });
}
