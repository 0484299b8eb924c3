"""The floor: the least any report build on this stack can cost.

Imports pandas, scipy.stats, matplotlib, jinja2 and weasyprint, computes one test on a 34-row table,
and renders a three-table, three-figure PDF. Nothing else: no workbook, no validation, no archive.
``python -m bench`` runs it in a fresh interpreter, so interpreter start-up and imports count exactly
as they do for ``reportgen build``; the example build is judged as a ratio to this.

    python -m bench.floor OUT.pdf
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Floor</title>
<style>
  @page { size: A4; margin: 18mm; }
  body { font-family: sans-serif; font-size: 9pt; }
  table { border-collapse: collapse; margin-bottom: 6mm; }
  th, td { border-bottom: 0.5pt solid #999; padding: 1pt 4pt; text-align: right; }
  figure { margin: 0 0 6mm 0; } figure svg { width: 150mm; height: auto; }
</style></head>
<body>
<h1>Floor report</h1>
{% for table in tables %}
<h2>Table {{ loop.index }}</h2>
<table>
  <thead><tr>{% for name in table.columns %}<th>{{ name }}</th>{% endfor %}</tr></thead>
  <tbody>{% for row in table.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% endfor %}
<p>Kruskal-Wallis H = {{ "%.2f"|format(h) }}, p = {{ "%.3f"|format(p) }}</p>
{% for svg in figures %}<figure>{{ svg|safe }}<figcaption>Figure {{ loop.index }}</figcaption></figure>{% endfor %}
</body></html>
"""


def render_floor_pdf(out: Path) -> int:
    """Write the floor PDF to ``out`` and return its size in bytes."""
    import jinja2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import scipy.stats
    import weasyprint

    rng = np.random.default_rng(34)
    patients = pd.DataFrame(
        {
            "trough_level": rng.lognormal(1.0, 0.5, 34),
            "das28_esr": rng.normal(4.0, 1.2, 34),
            "cdai": rng.normal(15.0, 8.0, 34),
            "sex": rng.choice(["female", "male"], 34),
        }
    )
    patients["quartile"] = pd.qcut(patients["trough_level"], 4, labels=["Q1", "Q2", "Q3", "Q4"])
    groups = [group["das28_esr"].to_numpy() for _, group in patients.groupby("quartile", observed=True)]
    h, p = scipy.stats.kruskal(*groups)

    summary = patients.groupby("quartile", observed=True)[["trough_level", "das28_esr", "cdai"]].agg(["mean", "std"])
    tables = [
        {"columns": ["quartile", *("/".join(c) for c in summary.columns)],
         "rows": [[str(i), *(f"{v:.2f}" for v in row)] for i, row in zip(summary.index, summary.to_numpy())]},
        {"columns": ["quartile", "female", "male"],
         "rows": [[str(i), *map(str, row)] for i, row in pd.crosstab(patients["quartile"], patients["sex"]).iterrows()]},
        {"columns": list(patients.columns[:3]),
         "rows": [[f"{v:.2f}" for v in row] for row in patients.iloc[:, :3].to_numpy()]},
    ]

    figures = []
    for column in ("das28_esr", "cdai", "trough_level"):
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.boxplot(
            [group[column].to_numpy() for _, group in patients.groupby("quartile", observed=True)],
            tick_labels=["Q1", "Q2", "Q3", "Q4"],
        )
        ax.set_ylabel(column)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        plt.close(fig)
        svg = buffer.getvalue()
        figures.append(svg[svg.index("<svg"):])

    html = jinja2.Environment(autoescape=True).from_string(TEMPLATE).render(tables=tables, figures=figures, h=h, p=p)
    pdf = weasyprint.HTML(string=html).write_pdf()
    out.write_bytes(pdf)
    return len(pdf)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("floor.pdf")
    size = render_floor_pdf(out)
    print(size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
