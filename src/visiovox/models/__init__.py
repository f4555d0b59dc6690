"""Model lifecycle: manifest, downloads, the model cache and ONNX sessions."""
