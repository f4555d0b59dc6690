"""Face engines: detection, landmarks, identity embeddings and swapping."""
