"""The baseline: a bare FastAPI endpoint that parses the same form and answers 202 JSON."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/v1/jobs/tts")
async def submit(request: Request) -> JSONResponse:
    form = await request.form()
    job_id = uuid.uuid4().hex
    return JSONResponse(
        {"id": job_id, "pipeline": "tts", "status": "queued", "params": {"text": form.get("text")}},
        status_code=202,
        headers={"Location": f"/v1/jobs/{job_id}"},
    )
