import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell

PARAM = '''import os
FAST = os.environ.get("CCHKIT_FAST", "0") == "1"   # parameter: CCHKIT_FAST=1 picks small, quick settings'''

def md(s): return new_markdown_cell(s.strip("\n"))
def code(s, tags=None):
    c = new_code_cell(s.strip("\n"))
    if tags: c.metadata["tags"] = tags
    return c

def build(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
