"""What spark-submit needs beyond local mode, checked in seconds without a cluster (tests/pipeline/test_cluster.py
runs the whole thing): the driver imports the project from the --py-files zip, where the bundled data is
absent, and classifier directories travel as archives because Spark refuses to addFile a directory on a
cluster."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_paths_resolve_to_the_installed_copy_when_imported_from_the_project_zip(tmp_path):
    archive = tmp_path / "corpusforge.zip"
    with zipfile.ZipFile(archive, "w") as z:  # code only, like `make package`
        z.write(ROOT / "__init__.py", "corpusforge/__init__.py")
        z.write(ROOT / "resources" / "__init__.py", "corpusforge/resources/__init__.py")
    probe = ("import corpusforge.resources as resources; print(resources.__file__); "
             "print(resources.resolve('resources/models/toxicity'))")
    env = {**os.environ, "PYTHONPATH": str(archive)}  # spark-submit puts --py-files first, as here
    imported, resolved = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                                        capture_output=True, text=True).stdout.split()
    assert imported.startswith(str(archive))
    assert Path(resolved) == ROOT / "resources" / "models" / "toxicity"
    assert (Path(resolved) / "classifier.json").is_file()


def test_a_model_archive_holds_the_directory_and_is_named_by_its_content(tmp_path):
    from corpusforge.jobs.classify import _archive

    model, staging = tmp_path / "toxicity", tmp_path / "staging"
    (model / "sub").mkdir(parents=True)
    staging.mkdir()
    (model / "classifier.json").write_text("{}")
    (model / "sub" / "head.safetensors").write_bytes(b"\0" * 64)
    name = _archive(model, staging)
    assert name.startswith("toxicity-") and name.endswith(".zip")
    with zipfile.ZipFile(staging / name) as z:
        assert sorted(z.namelist()) == ["classifier.json", "sub/head.safetensors"]
        assert z.read("sub/head.safetensors") == b"\0" * 64
    assert _archive(model, staging) == name  # same files: the same archive, not a second one
    (model / "classifier.json").write_text('{"changed": true}')
    assert _archive(model, staging) != name
    assert len(list(staging.iterdir())) == 2
