"""Where job files, registered voices and uploads live: a local folder or an S3 bucket.

Two layers, both chosen by ``storage.backend`` (``local`` | ``s3``):

``StorageBackend`` (``storage/backend.py``) stores opaque blobs under ``/``-separated
keys (``jobs/<id>/in/<name>``, ``jobs/<id>/out/<name>``, ``voices/<id>/<file>``).
``LocalBackend`` keeps each key as a file under ``storage.root``; ``S3Backend``
as an object in ``storage.s3.bucket`` under ``storage.s3.prefix``. Every call
blocks (S3 is a network round trip): from the gateway's event loop call them
through ``anyio.to_thread.run_sync``. ``open_backend(settings.storage)`` gives
the process's one backend (cached: a boto3 client is made once).

``JobFiles`` (``jobs/storage.py``) is the job layout over a backend; use it,
not keys, in job code:

- Gateways: ``files.receive_input(job_id, field)`` gives an ``IncomingFile`` to
  ``write`` chunks into while an upload streams (S3: a multipart upload, with a
  local copy at ``.path`` to sniff and probe), then ``close`` and ``keep(name)``;
  ``files.delete_job(job_id)`` removes everything of a job (an aborted upload too).
  Downloads: ``output_size``, ``iter_output(job_id, name, start, end)``,
  ``read_output`` (small files), ``output_url`` (a presigned URL, S3 only).
- Workers: ``with files.workspace(job_id) as ws:`` gives local paths a pipeline
  works on. ``ws.input_path(name)`` fetches the input on first use and
  ``ws.output_path(name)`` is where an output is written; ``ws.publish(name)``
  puts a finished output into the backend (the ``output`` event comes after it).
  With the local backend the workspace *is* the job's folder, so nothing is copied;
  with S3 it is a scratch folder under ``<storage.root>/scratch/`` removed on exit.
- Moving files between jobs (a parent and its children): ``put_input(job_id, name,
  source)``, ``put_output(...)``, ``fetch_input(job_id, name, dest)``,
  ``fetch_output(...)``, each a whole-file copy between a local path and the backend
  (with the local backend a file copy; ``local_input_path``/``local_output_path``
  return the stored file itself there, None on S3, when a copy is to be avoided).
- Retention: ``delete_older_than(age_s)`` removes job folders (objects) whose
  newest file is older, and stale scratch folders.

Registered voices use ``VoiceFiles`` (``jobs/voices.py``) over the same backend;
workers keep a local copy of a voice under ``<storage.root>/voices/``.
Free-space checks (``storage.min_free_bytes``, 507) apply to the local backend only.
"""
