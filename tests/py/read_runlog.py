#!/usr/bin/env python3
"""tests/py/read_runlog.py: a ctxscale run log read with h5py alone, following docs/runlog.md.

It is the example reader of that page and the second, independent reader of the format:
tests/cli/test_runlog_h5py.sh compares its --dump output with the C reader's, line for line.

    python3 read_runlog.py RUN.h5           print a short summary of the run
    python3 read_runlog.py --dump RUN.h5    print every value (doubles as hex bit patterns)
"""
import math
import struct
import sys

import h5py
import numpy as np

SCHEMA = "ctxscale-runlog"
SCHEMA_VERSION = 1
STATUS = {0: "running", 1: "finished", 2: "diverged", 3: "failed"}


def committed_rows(group):
    """Rows of a steps/eval group that are complete: n_rows, capped by every column's length."""
    n = int(group["n_rows"][()])
    for name, obj in group.items():
        if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and name != "bin_edges":
            n = min(n, obj.shape[0])
    return n


def read_columns(group):
    """Every 1-D column of a group, cut to the committed rows, as numpy arrays.
    Int columns use -1 for unknown values, float columns NaN."""
    n = committed_rows(group)
    return {name: obj[:n] for name, obj in group.items()
            if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and name != "bin_edges"}


def read_runlog(path):
    """The whole run log as plain Python/numpy values."""
    # swmr=True opens files that are being written and files whose writer was killed;
    # it works on finished files too.
    with h5py.File(path, "r", swmr=True) as f:
        if f.attrs.get("schema") != SCHEMA:
            raise ValueError(f"{path}: not a ctxscale run log")
        version = int(f.attrs["schema_version"])
        if version > SCHEMA_VERSION:
            raise ValueError(f"{path}: run-log schema version {version} is newer than "
                             f"this reader understands ({SCHEMA_VERSION})")
        log = {
            "attrs": dict(f.attrs),
            "config": dict(f["config"].attrs),
            "steps": read_columns(f["steps"]),
            "eval": read_columns(f["eval"]),
            "context": int(f["eval"].attrs["context"]),
            "status": STATUS.get(int(f["status/code"][()]), "unknown"),
            "message": f["status/message"].asstr()[()],
        }
        n_evals = len(log["eval"]["step"])
        if "contextwise" in f["eval"]:
            log["bin_edges"] = f["eval/bin_edges"][:]         # (n_bins + 1,) positions
            log["contextwise"] = f["eval/contextwise"][:n_evals]  # (n_evals, n_bins) nats/token
        return log


def hex64(x):
    return struct.pack(">d", float(x)).hex()


def dump(log):
    """The format of `runlog_writer dump` (tests/helpers/runlog_writer.c)."""
    out = [f"attr schema {log['attrs']['schema']}",
           f"attr schema_version {int(log['attrs']['schema_version'])}",
           f"attr tool_version {log['attrs']['tool_version']}",
           f"status {log['status']} {log['message']}"]
    for key, v in log["config"].items():
        if isinstance(v, str):
            out.append(f"config {key} str {v}")
        elif np.issubdtype(type(v), np.integer):
            out.append(f"config {key} int {int(v)}")
        else:
            out.append(f"config {key} f64 {hex64(v)}")
    for group in ("steps", "eval"):
        cols = log[group]
        out.append(f"{group} n_rows {len(cols['step'])}")
        for name, col in cols.items():
            if col.dtype.kind == "i":
                out.append(f"{group} {name} int" + "".join(f" {int(v)}" for v in col))
            else:
                out.append(f"{group} {name} f64" + "".join(f" {hex64(v)}" for v in col))
    out.append(f"eval context {log['context']}")
    out.append("eval bin_edges" + "".join(f" {int(v)}" for v in log.get("bin_edges", [])))
    cw = log.get("contextwise", np.zeros((0, 0)))
    out.append("eval contextwise" + "".join(f" {hex64(v)}" for v in cw.reshape(-1)))
    return "\n".join(out)


def summary(log):
    steps, ev = log["steps"], log["eval"]
    last = {k: v[-1] for k, v in steps.items()} if len(steps["step"]) else {}
    lines = [f"status: {log['status']} {log['message']}".rstrip(),
             f"steps: {len(steps['step'])}, evals: {len(ev['step'])}"]
    if last:
        lines.append(f"last step {int(last['step'])}: tokens {int(last['tokens'])}, "
                     f"loss_train {last['loss_train']:.4f} nats/token")
    if len(ev["step"]):
        bpb = ev["loss_val_bpb"][-1]
        lines.append(f"last eval at step {int(ev['step'][-1])}: loss_val "
                     f"{ev['loss_val'][-1]:.4f} nats/token"
                     + ("" if math.isnan(bpb) else f", {bpb:.4f} bits/byte"))
    return "\n".join(lines)


def main(argv):
    if len(argv) == 3 and argv[1] == "--dump":
        print(dump(read_runlog(argv[2])))
    elif len(argv) == 2:
        print(summary(read_runlog(argv[1])))
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
