// The live assistant: the microphone as 16 kHz PCM16 20 ms chunks over WS /v1/live/assistant,
// the reply's sentences played as they arrive, speaking over a reply stops it (barge-in).
// With "Avatar" the reply also comes as a talking portrait: each frame is drawn when the
// playback of its sentence's audio reaches its pts_ms; idle frames are drawn as they come.

import { openSocket } from "./api.js";
import { h } from "./dom.js";

class Playback {
  // Reply sentences (WAV) played back to back; stop() silences all of them at once.
  constructor(context, onPlay) {
    this.context = context;
    this.onPlay = onPlay;
    this.sources = new Set();
    this.nextAt = 0;
  }

  async play(wav) {
    const buffer = await this.context.decodeAudioData(wav);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    this.nextAt = Math.max(this.nextAt, this.context.currentTime);
    const startsAt = this.nextAt;
    source.start(startsAt);
    this.nextAt += buffer.duration;
    this.sources.add(source);
    source.onended = () => this.sources.delete(source);
    this.onPlay(buffer.duration);
    return startsAt;
  }

  stop() {
    for (const source of this.sources) source.stop();
    this.sources.clear();
    this.nextAt = 0;
  }
}

class AvatarView {
  // The avatar's frames on a canvas: a sentence's frames wait for its audio's start time
  // (AudioContext seconds) and are drawn as the playback reaches each pts_ms.
  constructor(canvas, context, onDrawn) {
    this.canvas = canvas;
    this.context = context;
    this.onDrawn = onDrawn;
    this.frames = []; // {sentence, pts, bitmap}, in arrival order
    this.starts = new Map(); // sentence number -> its audio's start time
    this.dropBelow = 0; // sentences under this number were cut short
    this.running = true;
    requestAnimationFrame(() => this.tick());
  }

  async add(message, jpeg) {
    const bitmap = await createImageBitmap(new Blob([jpeg], { type: "image/jpeg" }));
    if (message.sentence === null) {
      if (!this.frames.length) this.draw(bitmap); // idle: at once, unless a reply is showing
      return;
    }
    if (message.sentence >= this.dropBelow) this.frames.push({ sentence: message.sentence, pts: message.pts_ms / 1000, bitmap });
  }

  started(sentence, at) { this.starts.set(sentence, at); }

  cut(sentences) {
    // A barge-in: forget the frames of every sentence so far.
    this.dropBelow = sentences;
    this.frames = [];
  }

  tick() {
    if (!this.running) return;
    const now = this.context.currentTime;
    let due = null; // the latest frame whose time has come; those before it are skipped
    this.frames = this.frames.filter((frame) => {
      const start = this.starts.get(frame.sentence);
      if (start === undefined || start + frame.pts > now) return true;
      if (!due || start + frame.pts >= this.starts.get(due.sentence) + due.pts) due = frame;
      return false;
    });
    if (due) { this.draw(due.bitmap); this.onDrawn(); }
    requestAnimationFrame(() => this.tick());
  }

  draw(bitmap) {
    if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
      this.canvas.width = bitmap.width;
      this.canvas.height = bitmap.height;
    }
    this.canvas.getContext("2d").drawImage(bitmap, 0, 0);
  }

  stop() { this.running = false; this.frames = []; }
}

function timings(values) {
  return Object.entries(values || {})
    .filter(([, seconds]) => typeof seconds === "number")
    .map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`)
    .join(", ");
}

export async function showAssistant(main, { signal, notify }) {
  const language = h("input", { type: "text", id: "assistant-language", value: "en", size: 4, maxlength: 3 });
  const start = h("button", { type: "button", id: "assistant-start" }, "Start talking");
  const stop = h("button", { type: "button", class: "secondary", disabled: true }, "Stop");
  const state = h("output", { id: "assistant-state" }, "idle");
  const played = h("output", { id: "assistant-played" }, "0");
  const typed = h("input", { type: "text", id: "assistant-text", placeholder: "or type a message" });
  const withAvatar = h("input", { type: "checkbox", id: "assistant-avatar" });
  const drawn = h("output", { id: "assistant-frames" }, "0");
  const interruptions = h("output", { id: "assistant-interrupted" }, "0");
  const canvas = h("canvas", { id: "assistant-avatar-view", width: 512, height: 512, hidden: true, "aria-label": "the avatar" });
  const turns = h("div", { class: "log", role: "log", "aria-label": "conversation", id: "assistant-turns", tabindex: 0 });
  main.append(
    h("h2", {}, "Live assistant"),
    h("div", { class: "row" }, h("label", { for: "assistant-language" }, "Language"), language,
      withAvatar, h("label", { for: "assistant-avatar" }, "Avatar"), start, stop),
    h("div", { class: "figures" }, h("span", {}, "State ", state), h("span", {}, "Sentences played ", played),
      h("span", {}, "Replies interrupted ", interruptions), h("span", {}, "Avatar frames drawn ", drawn)),
    canvas,
    h("form", { class: "row", onsubmit: (event) => { event.preventDefault(); sendText(); } },
      h("label", { for: "assistant-text" }, "Message"), typed, h("button", { type: "submit" }, "Send")),
    turns,
  );
  let socket = null;
  let audio = null;
  let playback = null;
  let microphone = null;
  let reply = null; // the reply's line while its text streams in
  let lastReply = null; // the latest reply's line, whose audio may still be playing
  let avatar = null;
  let frameMessage = null; // the video_frame whose JPEG is the next binary message
  let sentences = 0; // sentence WAVs received: the next one's number
  const line = (who, text) => {
    const paragraph = h("p", {}, h("strong", {}, `${who}: `), text);
    turns.append(paragraph);
    turns.scrollTop = turns.scrollHeight;
    return paragraph;
  };
  const sendText = () => {
    if (socket && socket.readyState === WebSocket.OPEN && typed.value.trim()) {
      socket.send(JSON.stringify({ type: "text", text: typed.value.trim() }));
      typed.value = "";
    }
  };
  const close = () => {
    if (microphone) microphone.getTracks().forEach((track) => track.stop());
    avatar?.stop();
    if (audio) audio.close();
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "end_session" }));
    microphone = audio = playback = avatar = null;
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
    state.textContent = "listening";
  };
  const stopReply = () => {
    playback?.stop();
    avatar?.cut(sentences);
  };
  const onInterrupted = () => {
    // The worker heard speech over its reply: the rest of the reply is not played.
    stopReply();
    if (lastReply && !("interrupted" in lastReply.dataset)) {
      lastReply.dataset.interrupted = "";
      lastReply.append(" (interrupted)");
    }
    interruptions.textContent = String(Number(interruptions.textContent) + 1);
  };
  const onBinary = (data) => {
    if (frameMessage) {
      const message = frameMessage;
      frameMessage = null;
      avatar?.add(message, data).catch((error) => notify(`Avatar: ${error.message}`));
      return;
    }
    const sentence = sentences++;
    playback?.play(data)
      .then((at) => avatar?.started(sentence, at))
      .catch((error) => notify(`Playback: ${error.message}`));
  };
  const onMessage = (message) => {
    if (message.type === "ready") startMicrophone().catch((error) => { notify(`Microphone: ${error.message}`); close(); });
    else if (message.type === "speech_started") { stopReply(); state.textContent = "hearing you"; }
    else if (message.type === "interrupted") onInterrupted();
    else if (message.type === "video_frame") frameMessage = message;
    else if (message.type === "processing") state.textContent = message.stage || "thinking";
    else if (message.type === "transcription") { line("You", message.text).dataset.transcription = ""; reply = null; }
    else if (message.type === "response" && !message.final) {
      if (!reply) reply = lastReply = line("Assistant", "");
      reply.append(message.delta || "");
    } else if (message.type === "complete") {
      line("Timings", timings(message.timings));
      reply = null;
      state.textContent = "listening";
    } else if (message.type === "error") notify(`${message.code}: ${message.message || ""}`);
    else if (message.type === "session_ended") close();
  };
  start.addEventListener("click", () => {
    start.disabled = true;
    stop.disabled = false;
    state.textContent = "connecting";
    audio = new AudioContext();
    playback = new Playback(audio, () => { played.textContent = String(Number(played.textContent) + 1); });
    sentences = 0;
    frameMessage = null;
    canvas.hidden = !withAvatar.checked;
    avatar = withAvatar.checked
      ? new AvatarView(canvas, audio, () => { drawn.textContent = String(Number(drawn.textContent) + 1); })
      : null;
    socket = openSocket("v1/live/assistant");
    socket.onopen = () => {
      const session = { type: "start_session" };
      if (language.value.trim()) session.language = language.value.trim();
      if (withAvatar.checked) session.avatar = true;
      socket.send(JSON.stringify(session));
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") onMessage(JSON.parse(event.data));
      else onBinary(event.data);
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
