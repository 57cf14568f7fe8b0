"""A process killed with SIGKILL mid-write loses no acknowledged object and leaves no half-written one."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stratus import App
from stratus.local.cloud import LocalCloud
from stratus.resources.bucket import NoSuchKey

WRITER = textwrap.dedent(
    """
    import io, os, signal, sys
    from stratus import App
    from stratus.local.cloud import LocalCloud
    import stratus.local.bucket.blobs as blobs

    state, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = App("crash")
    bucket = app.bucket("data", versioning=mode == "versioned")
    LocalCloud(state).bind(app)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    for i in range(count):
        body = f"{i}:".encode() * ((70_000 if i % 2 else 1000) + i)  # odd: files; even: inline in SQLite
        result = bucket.put(f"k{i:04}", body, metadata={"n": str(i)})
        print(f"k{i:04} {result.etag}", flush=True)

    if mode in ("body", "versioned"):
        # Die in the middle of streaming a body: an overwrite of an acknowledged key.
        class Dying(io.RawIOBase):
            sent = False
            def readable(self):
                return True
            def readinto(self, b):
                if self.sent:
                    die()
                self.sent = True
                b[:4] = b"half"
                return 4
        bucket.put("k0000", io.BufferedReader(Dying()))
    elif mode == "publish":
        # Die after the body file is in place but before the metadata commits.
        real = os.replace
        def replace_then_die(src, dst):
            real(src, dst)
            die()
        blobs.os.replace = replace_then_die
        bucket.put("k0001", b"never acknowledged" * 100_000)
    """
)


@pytest.mark.parametrize("mode", ["body", "publish", "versioned"])
def test_acknowledged_objects_survive_kill_9(tmp_path: Path, mode: str) -> None:
    state = tmp_path / "state"
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, str(state), mode, "30"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr
    acknowledged = dict(line.split() for line in proc.stdout.splitlines())
    assert len(acknowledged) == 30

    app = App("crash")
    bucket = app.bucket("data", versioning=mode == "versioned")
    with LocalCloud(state) as cloud:
        cloud.bind(app)
        for i, (key, etag) in enumerate(sorted(acknowledged.items())):
            obj = bucket.get(key)
            assert obj.body == f"{i}:".encode() * ((70_000 if i % 2 else 1000) + i)
            assert obj.etag == etag == '"' + hashlib.md5(obj.body).hexdigest() + '"'
            assert obj.metadata == {"n": str(i)}
        assert len(list(bucket.iterate())) == 30
        with pytest.raises(NoSuchKey):
            bucket.get("half")
        # Reopening removed the crash's leftovers: only the 15 large bodies' files remain.
        folder = state / "buckets" / bucket.qualified_name
        assert list((folder / "tmp").iterdir()) == []
        files = [p for p in folder.rglob("*") if p.is_file() and p.parent.name != "tmp"]
        assert len(files) == 15
