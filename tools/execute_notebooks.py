"""Execute notebooks in place, top to bottom, each in a fresh kernel — the only way their
committed outputs are made. nbval then checks those outputs on every test run.

    python tools/execute_notebooks.py notebooks/            # all notebooks in a folder
    python tools/execute_notebooks.py notebooks/00_setup.ipynb
    python tools/execute_notebooks.py --check notebooks/    # execute into memory; fail if the
                                                            # text outputs differ from the files

Runs with the working directory set to the notebook's folder, TQDM_DISABLE=1 (progress bars
stay out of checked outputs) and PYTHONHASHSEED=0. Cell timing metadata is not recorded, and
widget model ids (random UUIDs) are renamed to ids derived from the notebook's name and the
order the widgets were made in, so a second execution leaves the files byte-for-byte unchanged
when the outputs are deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TEXT_KEYS = ("text/plain",)


def _notebooks(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return [nb for nb in found if ".ipynb_checkpoints" not in nb.parts]


def coalesce_streams(nb: nbformat.NotebookNode) -> None:
    """Merge consecutive stdout (or stderr) chunks of a cell into one output, in place.

    How a kernel splits one print into chunks depends on timing; merged, the saved notebook
    is the same on every run (nbval merges them too before comparing).
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged: list = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (
                out.get("output_type") == "stream"
                and prev is not None
                and prev.get("output_type") == "stream"
                and prev.get("name") == out.get("name")
            ):
                prev["text"] += out["text"]
            else:
                merged.append(out)
        cell.outputs = merged


def _path_replacements() -> list[tuple[str, str]]:
    """Absolute paths of this machine -> neutral names, longest first."""
    import site
    import sysconfig

    root = Path(__file__).resolve().parents[1]
    pairs = {str(root): "<seglab>"}
    for sp in site.getsitepackages():
        pairs[sp] = "<site-packages>"
    pairs[sysconfig.get_paths()["stdlib"]] = "<python>"
    pairs[sys.prefix] = "<venv>"
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def scrub_paths(nb: nbformat.NotebookNode) -> None:
    """Replace this machine's absolute paths in outputs (tracebacks name files), in place.

    Committed notebooks must not carry the maintainer's folders; nbval does not compare
    tracebacks, so the neutral names change nothing it checks.
    """
    pairs = _path_replacements()

    def clean(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = clean(out["text"])
            if "traceback" in out:
                out["traceback"] = [clean(line) for line in out["traceback"]]
            if "evalue" in out:
                out["evalue"] = clean(out["evalue"])
            for key, value in out.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = clean(value)


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def stable_widget_ids(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """``nb`` with each widget model id (a random UUID per run) replaced by a stable one.

    The saved widget state (notebook metadata), the outputs that show a widget and the
    references between models (``IPY_MODEL_<id>``) all use the same id, so one consistent
    renaming keeps them linked. The new ids keep the UUID's shape (32 hex digits): the first
    widget made in ``name`` gets sha256(``name:0``)'s first 32 digits, and so on.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return nb
    text = json.dumps(nb)
    for index, old in enumerate(list(state)):  # the order the kernel made them in
        text = text.replace(old, hashlib.sha256(f"{name}:{index}".encode()).hexdigest()[:32])
    return nbformat.from_dict(json.loads(text))


def execute(path: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run ``path`` in a fresh python3 kernel and return the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["PYTHONHASHSEED"] = "0"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    coalesce_streams(nb)
    scrub_paths(nb)
    return stable_widget_ids(nb, path.name)


def _text_outputs(nb: nbformat.NotebookNode) -> list[list[str]]:
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            elif "data" in out:
                texts.extend(str(out["data"].get(k, "")) for k in TEXT_KEYS)
            elif out.get("output_type") == "error":
                texts.append(out.get("ename", "") + ": " + out.get("evalue", ""))
        cells.append(texts)
    return cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    parser.add_argument("--check", action="store_true", help="do not write; fail on a difference")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = []
    total = 0.0
    for path in _notebooks(args.paths):
        start = time.perf_counter()
        executed = execute(path, args.timeout)
        took = time.perf_counter() - start
        total += took
        if args.check:
            committed = nbformat.read(path, as_version=4)
            coalesce_streams(committed)
            same = _text_outputs(executed) == _text_outputs(committed)
            print(f"{path}: {took:6.1f} s  {'unchanged' if same else 'OUTPUTS DIFFER'}")
            if not same:
                failed.append(path)
        else:
            nbformat.write(executed, path)
            print(f"{path}: {took:6.1f} s  written")
    print(f"total: {total:.1f} s")
    if failed:
        print("re-execute these and commit the result:", *failed, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
