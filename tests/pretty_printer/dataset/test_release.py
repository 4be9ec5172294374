"""release: public/ only, deterministic, with a commitment that a later truth/ is checked against."""

import shutil
import tarfile
import zipfile

import pytest

from pretty_printer.cli.main import main
from pretty_printer.dataset.release import find_datasets, release, verify
from pretty_printer.errors import ConfigError, DatasetError


def test_release_holds_public_only_and_is_deterministic(tiny_dataset, tmp_path):
    a = release(tiny_dataset, tmp_path / "a.tar.gz")
    b = release(tiny_dataset, tmp_path / "b.tar.gz")
    assert a.read_bytes() == b.read_bytes()
    with tarfile.open(a) as t:
        names = t.getnames()
        readme = t.extractfile("README.md").read().decode()
        commitment = t.extractfile("COMMITMENT.txt").read().decode()
    public = sorted(p.relative_to(tiny_dataset).as_posix() for p in (tiny_dataset / "public").rglob("*") if p.is_file())
    assert sorted(n for n in names if n.startswith("public/")) == public
    assert set(names) - set(public) == {"README.md", "COMMITMENT.txt"}
    assert not any("truth" in n for n in names)
    assert "synapses.csv" in readme and "--verify --against" in readme
    assert verify(tiny_dataset)[0][1] in commitment
    z = release(tiny_dataset, tmp_path / "a.zip")
    assert sorted(zipfile.ZipFile(z).namelist()) == sorted(names)


def test_verify_against_the_archive_detects_a_changed_truth(tiny_dataset, tmp_path, capsys):
    archive = release(tiny_dataset, tmp_path / "r.tar.gz")
    ((_, want, got),) = verify(tiny_dataset, archive)
    assert want == got
    copy = tmp_path / "copy"
    shutil.copytree(tiny_dataset, copy)
    (copy / "truth" / "circuit.json").write_text((copy / "truth" / "circuit.json").read_text() + " ")
    ((_, want, got),) = verify(copy, archive)
    assert want != got
    assert main(["release", str(copy), "--verify", "--against", str(archive)]) == 2
    assert "does not match the commitment" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="no longer matches"):  # a tampered truth is not released
        release(copy, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def test_release_errors(tiny_dataset, tmp_path):
    with pytest.raises(ConfigError, match="ending in"):
        release(tiny_dataset, tmp_path / "r.rar")
    with pytest.raises(ConfigError, match="outside"):
        release(tiny_dataset, tiny_dataset / "r.tar.gz")
    with pytest.raises(DatasetError, match="expected a dataset"):
        find_datasets(tmp_path)
