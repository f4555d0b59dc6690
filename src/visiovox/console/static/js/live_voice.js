// Live voice conversion: a reference recording, then the microphone as 16 kHz PCM16 20 ms
// chunks over WS /v1/live/voice, the converted PCM played back to back as it returns.

import { openSocket } from "./api.js";
import { h } from "./dom.js";

const RATE = 16000;
// Audio held before the first converted chunk plays: evens out the arrival of blocks.
const PLAYOUT_S = 0.1;

class PcmPlayer {
  // Converted PCM16 chunks scheduled back to back; a late one starts after a fresh buffer.
  constructor(context) {
    this.context = context;
    this.nextAt = 0;
    this.seconds = 0;
  }

  play(data) {
    const pcm = new Int16Array(data);
    if (!pcm.length) return;
    const buffer = this.context.createBuffer(1, pcm.length, RATE);
    const samples = buffer.getChannelData(0);
    for (let index = 0; index < pcm.length; index += 1) samples[index] = pcm[index] / 32768;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    this.nextAt = Math.max(this.nextAt, this.context.currentTime + PLAYOUT_S);
    source.start(this.nextAt);
    this.nextAt += buffer.duration;
    this.seconds += buffer.duration;
  }
}

export async function showVoice(main, { signal, notify }) {
  const reference = h("input", { type: "file", id: "voice-reference", accept: "audio/wav,.wav" });
  const shift = h("input", { type: "number", id: "voice-shift", min: -24, max: 24, step: 1, value: 0 });
  const start = h("button", { type: "button", id: "voice-start" }, "Start talking");
  const stop = h("button", { type: "button", class: "secondary", disabled: true }, "Stop");
  const state = h("output", { id: "voice-state" }, "idle");
  const converted = h("output", { id: "voice-converted" }, "0.0");
  const latency = h("output", { id: "voice-latency" }, "–");
  const drops = h("output", { id: "voice-drops" }, "0");
  main.append(
    h("h2", {}, "Live voice"),
    h("div", { class: "row" },
      h("label", { for: "voice-reference" }, "Target voice (WAV, 3–60 s)"), reference,
      h("label", { for: "voice-shift" }, "Pitch shift (semitones)"), shift, start, stop),
    h("div", { class: "figures" },
      h("span", {}, "State ", state), h("span", {}, "Converted ", converted, " s"),
      h("span", {}, "Latency p50 / p95 ", latency, " ms"), h("span", {}, "Dropped ", drops)),
  );
  let socket = null;
  let audio = null;
  let player = null;
  let microphone = null;
  const close = () => {
    if (microphone) microphone.getTracks().forEach((track) => track.stop());
    if (audio) audio.close();
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end_session" }));
    microphone = audio = player = null;
    start.disabled = false;
    stop.disabled = true;
    state.textContent = "idle";
  };
  const startMicrophone = async () => {
    microphone = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    await audio.audioWorklet.addModule("console/js/pcm_worklet.js");
    const chunker = new AudioWorkletNode(audio, "pcm-chunker");
    chunker.port.onmessage = (event) => {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(event.data);
    };
    audio.createMediaStreamSource(microphone).connect(chunker);
    chunker.connect(audio.destination); // silent: a node must be pulled to run
    state.textContent = "converting";
  };
  const onMessage = (message) => {
    if (message.type === "ready") startMicrophone().catch((error) => { notify(`Microphone: ${error.message}`); close(); });
    else if (message.type === "stats") {
      latency.textContent = `${Math.round(message.latency_ms_p50)} / ${Math.round(message.latency_ms_p95)}`;
      drops.textContent = String(message.dropped);
    } else if (message.type === "error") notify(`${message.code}: ${message.message || ""}`);
    else if (message.type === "session_ended") close();
  };
  start.addEventListener("click", () => {
    if (!reference.files.length) {
      notify("Choose a recording of the target voice first.");
      reference.focus();
      return;
    }
    notify("");
    start.disabled = true;
    stop.disabled = false;
    state.textContent = "connecting";
    audio = new AudioContext();
    player = new PcmPlayer(audio);
    socket = openSocket("v1/live/voice");
    socket.onopen = async () => {
      const session = { type: "start_session", sample_rate: RATE };
      if (Number(shift.value)) session.pitch_shift = Number(shift.value);
      socket.send(JSON.stringify(session));
      socket.send(await reference.files[0].arrayBuffer());
      state.textContent = "measuring the voice";
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") onMessage(JSON.parse(event.data));
      else if (player) {
        player.play(event.data);
        converted.textContent = player.seconds.toFixed(1);
      }
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) notify(`The session closed: ${event.code} ${event.reason}`);
      close();
    };
  });
  stop.addEventListener("click", close);
  signal.addEventListener("abort", () => {
    if (socket) socket.onclose = null; // leaving the tab is no failure to report
    close();
    socket?.close();
  });
}
