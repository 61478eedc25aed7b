"""The chart of ``crm report trends --chart FILE``: PNG or SVG, drawn with matplotlib.

matplotlib takes longer to import than the rest of a command together, so it is
imported here, when a chart is asked for, and never by ``crm --help`` or the table.
The Agg backend draws without a display (servers, cron, containers). SVG keeps its
text as text, so the file says which series it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crm_core.analytics import MonthTrend
from worker.cli.context import CliError

FORMATS = (".png", ".svg")


def draw_trends(trends: Sequence[MonthTrend], path: Path) -> None:
    """Three panels sharing the months: leads by source, quotes and bookings, revenue."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CliError(f"cannot draw {path.name}: give a file ending in .png or .svg")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    matplotlib.rcParams["svg.fonttype"] = "none"
    months = [trend.month for trend in trends]
    positions = list(range(len(months)))
    sources = sorted({source for trend in trends for source in trend.leads_by_source})

    figure, (leads_axis, sales_axis, revenue_axis) = pyplot.subplots(
        3, 1, figsize=(10, 9), sharex=True, constrained_layout=True
    )
    try:
        bottom = [0] * len(months)
        for source in sources:
            counts = [trend.leads_by_source.get(source, 0) for trend in trends]
            label = f"leads: {source}".replace("$", r"\$")  # a source name is not mathtext
            leads_axis.bar(positions, counts, bottom=bottom, label=label)
            bottom = [below + count for below, count in zip(bottom, counts, strict=True)]
        leads_axis.set_title("Leads by source")
        leads_axis.set_ylabel("leads")
        if sources:
            leads_axis.legend(loc="upper left", fontsize="small")

        for label, values in (
            ("quotes sent", [trend.quotes_sent for trend in trends]),
            ("quotes accepted", [trend.quotes_accepted for trend in trends]),
            ("bookings", [trend.bookings for trend in trends]),
        ):
            sales_axis.plot(positions, values, marker="o", label=label)
        sales_axis.set_title("Quotes and bookings")
        sales_axis.legend(loc="upper left", fontsize="small")

        revenue_axis.bar(positions, [float(trend.revenue) for trend in trends], label="revenue")
        revenue_axis.set_title("Revenue (kr, accepted quotes)")
        revenue_axis.set_xticks(positions, months, rotation=45, ha="right")
        revenue_axis.legend(loc="upper left", fontsize="small")
        try:
            figure.savefig(path, format=suffix[1:], dpi=100)
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        pyplot.close(figure)
