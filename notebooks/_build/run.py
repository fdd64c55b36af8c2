import sys, time, os, nbformat
from nbclient import NotebookClient
os.environ["CCHKIT_FAST"] = "1"
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"): os.environ[v] = "1"
for p in sys.argv[1:]:
    nb = nbformat.read(p, as_version=4)
    t = time.perf_counter()
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(p)}}).execute()
        ok = "ok"
    except Exception as e:
        ok = f"ERROR {type(e).__name__}: {str(e)[-3000:]}"
    dt = time.perf_counter() - t
    nbformat.write(nb, p)
    print(f"{os.path.basename(p)}: {dt:.1f} s {ok}", flush=True)
