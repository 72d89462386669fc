"""gunicorn settings for the progress-api role, read from the environment."""

import gc
import os

from prometheus_client import multiprocess

from progress_site import gc_tuning

bind = os.environ.get("PROGRESS_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Load the app once in the master so workers fork with it ready (faster start, less memory).
preload_app = True
timeout = 30
graceful_timeout = 25
keepalive = 5
accesslog = None
errorlog = "-"
# The longest request line gunicorn takes (its default is 4094): a `more` link repeats the
# query's filters, and Activity and Verb IRIs can be long (Data §2.5.s3.b1: the LRS's own
# more link must be usable).
limit_request_line = 8190
max_requests = 20000
max_requests_jitter = 2000


def on_starting(server):
    # Metric files left by a previous run of this container would be summed into ours.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def pre_fork(server, worker):
    # Everything loaded so far (Django, the app, settings) lives as long as the process:
    # frozen, it is never scanned by the cyclic collector again, and workers keep sharing
    # those pages with the master instead of copying them (progress_site.gc_tuning).
    gc_tuning.freeze_startup_objects()


def post_fork(server, worker):
    gc.set_threshold(gc_tuning.GEN0_THRESHOLD, 20, 50)


def child_exit(server, worker):
    # Worker processes share metrics through PROMETHEUS_MULTIPROC_DIR; a dead worker's
    # live gauges must be dropped.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
