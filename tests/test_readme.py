"""The README's two set-up commands are the ones that work: CI runs the test command, and the
run command brings up a server that answers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest
from conftest import ROOT

from rag.net import free_port

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", README, re.DOTALL)]


def readme_run_command() -> str:
    return _bash_blocks()[0]


def readme_test_command() -> str:
    return _bash_blocks()[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_test_command() == "bash scripts/install.sh --dev && .venv/bin/python -m pytest"
    assert readme_test_command() in ci.splitlines()


def test_the_install_script_pins_the_cpu_torch():
    script = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert '"torch==2.13.0"' in script
    assert '"torch==2.13.0",' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.real_model
def test_the_readme_run_command_serves_the_bundled_corpus(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_PORT": str(port),
        "RAG_QUERY_LOG": str(tmp_path / "queries.jsonl"),
    }
    env.pop("RAG_EMBEDDER", None)
    proc = subprocess.Popen(
        ["bash", "-c", readme_run_command()],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 600
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    health = json.load(r)
                    break
            except OSError:
                time.sleep(1)
        assert health is not None and (health["status"], health["documents"]) == ("ok", 3), (
            proc.stdout and proc.stdout.read1()
        )
        url = f"http://127.0.0.1:{port}/api/search?q=Hur+ofta+ska+uppdraget+avrapporteras&k=1"
        with urllib.request.urlopen(url, timeout=30) as r:
            hit = json.load(r)["hits"][0]
        assert hit["doc"] == "003_122012043ca4c196.txt"
        assert "halvårsvis" in hit["text"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/ask",
            data=json.dumps({"question": "Hur ofta ska AI-uppdraget avrapporteras till socialnämnden?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.load(r)
        assert any("halvårsvis" in c["quote"] for c in answer["citations"])
        assert (tmp_path / "queries.jsonl").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
