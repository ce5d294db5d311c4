"""Every runnable block of the course in content/ runs in the sandbox as a reader would run it.

Each block (with the other files of its example) is sent through the broker to a real grading
host, exactly as playground.runs sends it; a script must end with exit status 0, an app must
answer each of its example requests without a server error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis as redis_lib
from celery import current_app
from django.conf import settings

from grading.interactive import INTERACTIVE_QUEUE, RESULT_KEY, RUN_TASK, LiveRequest, RunJob, new_id
from lessons.runnable import example_files, runnable_blocks, runnable_problems

pytestmark = [pytest.mark.sandbox, pytest.mark.course_content]

CONTENT = Path(settings.COURSE_CONTENT_DIR)


def course_blocks():
    found = []
    for path in sorted(CONTENT.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for block in runnable_blocks(text):
            found.append((f"{path.relative_to(CONTENT)}:{block.line}", text, block))
    return found


BLOCKS = course_blocks()


def job_for(text, block) -> RunJob:
    requests = tuple(
        LiveRequest.from_message({**r.as_dict(), "headers": [list(h) for h in r.sent_headers()]})
        for r in block.requests
    )
    job = RunJob(
        run_id=new_id(),
        kind=block.kind,
        files=example_files(text, block),
        entry=block.entry,
        framework=block.framework,
        requests=requests,
    )
    return RunJob.from_message(job.to_message())


def test_the_course_has_runnable_blocks_and_apps_among_them():
    assert len(BLOCKS) >= 20
    assert sum(block.kind == "app" for _, _, block in BLOCKS) >= 3


def test_every_runnable_block_of_the_course_is_well_formed():
    for path in sorted(CONTENT.rglob("*.md")):
        assert runnable_problems(path.read_text(encoding="utf-8")) == [], path


def run_all(client, blocks, timeout: float) -> tuple[dict, list[str]]:
    """Send the runs of `blocks` at once; return {run_id: ((where, block), result)} and the
    blocks that got no result in time."""
    waiting = {}
    for where, text, block in blocks:
        job = job_for(text, block)
        current_app.send_task(RUN_TASK, args=(job.to_message(),), queue=INTERACTIVE_QUEUE)
        waiting[job.run_id] = (where, text, block)
    results = {}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for run_id in list(waiting):
            raw = client.lindex(RESULT_KEY.format(run_id=run_id), 0)
            if raw is not None:
                results[run_id] = (waiting.pop(run_id), json.loads(raw))
        time.sleep(0.2)
    return results, [f"{where}: no result" for where, _, _ in waiting.values()]


def test_every_runnable_block_of_the_course_runs(celery_broker, start_grading_host):
    start_grading_host(concurrency=2)
    client = redis_lib.Redis.from_url(celery_broker.url)
    results, failures = run_all(client, BLOCKS, timeout=20 * len(BLOCKS))
    # A script has five seconds; on a machine busy with other work, importing FastAPI alone can
    # take most of them. A block that timed out beside the others runs again on its own.
    again = [entry for entry, result in results.values() if result["status"] == "timeout"]
    results = {k: v for k, v in results.items() if v[1]["status"] != "timeout"}
    for entry in again:
        retried, lost = run_all(client, [entry], timeout=60)
        results.update(retried)
        failures += lost

    for (where, _text, block), result in results.values():
        said = f"{where}: {result['status']} {result['message']}\n{result['stderr'][-2000:]}"
        if result["status"] != "ok":
            failures.append(said)
        elif block.kind == "script" and result["exit_code"] != 0:
            failures.append(f"{said} (exit status {result['exit_code']})")
        elif block.kind == "app":
            exchanges = result["exchanges"]
            if len(exchanges) != len(block.requests):
                failures.append(f"{said} ({len(exchanges)} of {len(block.requests)} answered)")
            for exchange in exchanges:
                response = exchange["response"]
                if response is None or response["status"] >= 500:
                    failures.append(f"{where}: {exchange['request']['path']} -> {exchange}")
    assert not failures, "\n\n".join(failures)
