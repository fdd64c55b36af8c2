import sys, nbformat
from datetime import datetime
for p in sys.argv[1:]:
    nb = nbformat.read(p, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code": continue
        ex = c.metadata.get("execution", {})
        a, b = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if a and b:
            dt = (datetime.fromisoformat(b.replace("Z","+00:00")) - datetime.fromisoformat(a.replace("Z","+00:00"))).total_seconds()
            print(f"{i:3d} {dt:6.1f}s  {c.source.splitlines()[0][:70]}")
