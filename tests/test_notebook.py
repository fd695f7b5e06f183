"""The tutorial runs as a Jupyter notebook (the gallery script, cell by cell)."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("torch")

TUTORIAL = (Path(__file__).parents[1] / "examples" / "tutorial"
            / "plot_tabular_workflow.py")


def script_to_notebook(path):
    """Sphinx-gallery's format: the docstring and ``# %%`` comment blocks
    become markdown cells, the code between them code cells."""
    source = path.read_text()
    doc_end = source.index('"""', 3) + 3
    cells = [nbformat.v4.new_markdown_cell(source[3:doc_end - 3].strip())]
    for block in source[doc_end:].split("# %%"):
        lines = block.strip("\n").splitlines()
        text = []
        while lines and lines[0].startswith("#"):
            text.append(lines.pop(0)[2:])
        if text:
            cells.append(nbformat.v4.new_markdown_cell("\n".join(text)))
        code = "\n".join(lines).strip()
        if code:
            cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path):
    notebook = script_to_notebook(TUTORIAL)
    assert sum(c.cell_type == "code" for c in notebook.cells) == 4
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "tuned network  test accuracy" in text
    # the pipeline's HTML diagram (scikit-learn's repr) is a rich output
    assert any("text/html" in o.get("data", {}) for o in outputs
               if o.output_type == "execute_result")
