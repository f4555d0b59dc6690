// An AudioWorklet that turns the microphone into 16 kHz mono PCM16 chunks of 20 ms
// (320 samples), resampled linearly from the context's rate, posted to the page.

const RATE = 16000;
const CHUNK = RATE / 50;

class PcmChunker extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / RATE;
    this.position = 0; // in input samples, after `previous` (index 0)
    this.previous = 0;
    this.chunk = new Int16Array(CHUNK);
    this.filled = 0;
  }

  push(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.chunk[this.filled] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    this.filled += 1;
    if (this.filled === CHUNK) {
      this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
      this.chunk = new Int16Array(CHUNK);
      this.filled = 0;
    }
  }

  process(inputs) {
    const samples = inputs[0] && inputs[0][0];
    if (!samples) return true;
    while (this.position < samples.length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      const left = index === 0 ? this.previous : samples[index - 1];
      this.push(left + (samples[index] - left) * fraction);
      this.position += this.step;
    }
    this.position -= samples.length;
    this.previous = samples[samples.length - 1];
    return true;
  }
}

registerProcessor("pcm-chunker", PcmChunker);
