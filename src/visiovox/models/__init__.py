"""Model lifecycle: manifest, downloads, ONNX sessions and the engine pool."""
