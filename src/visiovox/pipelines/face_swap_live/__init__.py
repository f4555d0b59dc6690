"""Live face swap: a worker hosts one ``WS /v1/live/face-swap`` session, frames in, swapped out."""
