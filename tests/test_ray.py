"""Bulk embedding on a real Ray cluster on loopback: a head started here with `ray start`, two worker
processes, `rag index --ray ADDRESS` embedding through a model actor in each, giving exactly the
vectors a local build gives.

Ray resolves 127.0.0.1 to the machine's outward address unless it runs as a single-node cluster
(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, despite its name the switch for that on every system), and no
traffic of these tests may leave loopback: so one node, two worker processes."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS
from typer.testing import CliRunner

from rag.cli import app as cli
from rag.net import free_port
from rag.store.embedded import current_path

# One node on loopback, and the cluster's token given to the head and to this process alike (Ray
# otherwise reads it from ~/.ray/auth_token, which another cluster on the machine may have written).
LOOPBACK = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": secrets.token_hex(32),
}
os.environ.update(LOOPBACK)  # before Ray is imported: it reads the switches once, on import
pytest.importorskip("ray", reason="the ray extra is not installed (scripts/install.sh --dev installs it)")
pytestmark = pytest.mark.slow

RAY = Path(sys.executable).with_name("ray")


@pytest.fixture(scope="module")
def cluster():
    temp = Path(tempfile.mkdtemp(prefix="rag-ray-"))
    port = free_port()
    env = {**os.environ, **LOOPBACK}
    head = [str(RAY), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2"]
    head += ["--temp-dir", str(temp), "--include-dashboard", "false", "--disable-usage-stats"]
    try:
        subprocess.run(head, check=True, capture_output=True, env=env, timeout=180)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def _vectors(index: Path) -> tuple[list[str], np.ndarray]:
    version = current_path(index)
    assert version is not None
    hashes = json.loads((version / "embed_hashes.json").read_text(encoding="utf-8"))
    return hashes, np.load(version / "vectors.npy")


def test_a_build_on_two_ray_workers_gives_the_local_vectors(cluster, tmp_path, monkeypatch):
    import ray

    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_QUERY_LOG", "")
    runner = CliRunner()
    local = runner.invoke(cli, ["index", str(CORPUS), "--index", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    try:
        args = ["index", str(CORPUS), "--index", str(tmp_path / "ray"), "--ray", cluster, "--ray-workers", "2"]
        on_ray = runner.invoke(cli, args)
        assert on_ray.exit_code == 0, on_ray.output
        assert ray.cluster_resources().get("CPU") == 2
        from ray._private.state import actors as actor_table  # the GCS's table: no dashboard needed

        actors = [a for a in actor_table().values() if "EmbedActor" in a["ActorClassName"]]
    finally:
        ray.shutdown()
    assert len(actors) == 2 and len({a["Pid"] for a in actors}) == 2  # two model actors, two worker processes
    want_hashes, want = _vectors(tmp_path / "local")
    got_hashes, got = _vectors(tmp_path / "ray")
    assert got_hashes == want_hashes
    np.testing.assert_array_equal(got, want)


def test_an_unreachable_cluster_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    result = CliRunner().invoke(
        cli, ["index", str(CORPUS), "--index", str(tmp_path / "i"), "--ray", f"127.0.0.1:{free_port()}"]
    )
    message = str(result.exception)
    assert type(result.exception).__name__ == "RayError"  # 'rag' prints it as one 'Error: ...' line, exit 1
    assert "cannot join the Ray cluster (" in message and "ray start --head" in message
    assert not (tmp_path / "i" / "current").exists()  # nothing half-built
