"""Library plotting never changes the caller's matplotlib backend."""

import matplotlib

from pretty_printer.viz import figures, report


def test_library_figures_leave_the_backend_alone(tmp_path):
    matplotlib.use("svg")  # a caller's choice the library must keep
    try:
        png = report._plot_png({"synapses": {"f1": 0.5}, "function": {"accuracy": 0.75, "reference_accuracy": 1.0}})
        fig, ax = figures.subplots(figsize=(2, 2), dpi=50)
        ax.plot([0, 1], [0, 1])
        fig.savefig(tmp_path / "a.png")
        assert matplotlib.get_backend().lower() == "svg"
        assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png  # the report's bar chart rendered without pyplot
    finally:
        matplotlib.use("Agg")
