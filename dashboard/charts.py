"""Bar charts of daily figures, laid out here and drawn as inline SVG by the template
(admin/dashboard_chart.html): no script, nothing fetched, so the admin's CSP holds and the
charts work offline. Coordinates are strings, formatted once, whatever the locale."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

WIDTH = 600
HEIGHT = 150
TOP = 16  # room for the peak's label
BOTTOM = 18  # room for the dates
GAP = 2


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    label: str  # its tooltip: the day and the figure


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    peak: str  # the tallest bar's figure, labelled at the top of the axis
    first_day: str
    last_day: str
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM

    @property
    def empty(self) -> bool:
        return self.peak == ""

    @cached_property
    def markup(self) -> SafeString:
        """The bars as SVG, escaped: one string, not a template loop of five variables a bar
        (the dashboard's charts are most of its render: bench/RESULTS.md)."""
        return format_html_join(
            "",
            '<rect class="op-bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            ((bar.x, bar.y, bar.width, bar.height, bar.label) for bar in self.bars),
        )


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def daily_bars(
    title: str,
    days: Sequence[date],
    values: Mapping[date, Decimal | int],
    show: Callable[[Decimal | int], str],
) -> BarChart:
    """One bar per day of `days` (a day missing in `values` is 0), scaled to the largest;
    `show` writes a figure for the labels."""
    figures = [values.get(day, 0) for day in days]
    peak = max(figures, default=0)
    slot = WIDTH / max(len(days), 1)
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (day, figure) in enumerate(zip(days, figures, strict=True)):
        # A day of credits only nets below zero: no bar, its figure in the tooltip.
        height = max(float(figure), 0.0) / float(peak) * plot if peak > 0 else 0.0
        bars.append(
            Bar(
                x=_coordinate(index * slot + GAP / 2),
                y=_coordinate(TOP + plot - height),
                width=_coordinate(slot - GAP),
                height=_coordinate(height),
                label=f"{day.isoformat()}: {show(figure)}",
            )
        )
    return BarChart(
        title=title,
        bars=bars,
        peak=show(peak) if peak > 0 else "",
        first_day=days[0].isoformat() if days else "",
        last_day=days[-1].isoformat() if days else "",
    )


# A ranking: one horizontal bar per name, largest first (admin/dashboard_ranking.html).
ROW = 20
NAME_WIDTH = 190  # the names, left of the bars
FIGURE_WIDTH = 110  # the figures, right of the longest bar


@dataclass(frozen=True)
class RankedBar:
    name: str  # as shown, cut to fit
    full_name: str  # in its tooltip
    figure: str
    y: str
    width: str
    text_y: str
    figure_x: str


@dataclass(frozen=True)
class Ranking:
    title: str
    bars: list[RankedBar]
    width: int = WIDTH
    name_width: int = NAME_WIDTH

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW

    @property
    def empty(self) -> bool:
        return not self.bars

    @cached_property
    def description(self) -> str:
        """What the chart shows, for its aria-label (the template escapes it)."""
        return "".join([self.title, *(f"; {bar.full_name}: {bar.figure}" for bar in self.bars)])

    @cached_property
    def markup(self) -> SafeString:
        """The bars as SVG, escaped (as BarChart.markup)."""
        return format_html_join(
            "\n    ",
            "<g><title>{}: {}</title>\n      "
            '<text class="op-label op-name" x="0" y="{}">{}</text>\n      '
            '<rect class="op-bar" x="{}" y="{}" width="{}" height="16"/>\n      '
            '<text class="op-label" x="{}" y="{}">{}</text></g>',
            (
                (
                    bar.full_name,
                    bar.figure,
                    bar.text_y,
                    bar.name,
                    self.name_width,
                    bar.y,
                    bar.width,
                    bar.figure_x,
                    bar.text_y,
                    bar.figure,
                )
                for bar in self.bars
            ),
        )


def _cut(name: str, length: int = 28) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def ranked_bars(
    title: str,
    figures: Mapping[str, Decimal | int],
    show: Callable[[Decimal | int], str],
    top: int,
) -> Ranking:
    """The `top` largest of `figures` (name → figure), largest first, scaled to the largest;
    names and figures above zero only (a ranking of nothing says nothing)."""
    ranked = sorted(
        ((name, figure) for name, figure in figures.items() if figure > 0),
        key=lambda item: (-item[1], item[0]),
    )[:top]
    peak = float(ranked[0][1]) if ranked else 0.0
    span = WIDTH - NAME_WIDTH - FIGURE_WIDTH
    bars = []
    for index, (name, figure) in enumerate(ranked):
        length = float(figure) / peak * span if peak else 0.0
        bars.append(
            RankedBar(
                name=_cut(name),
                full_name=name,
                figure=show(figure),
                y=_coordinate(index * ROW + GAP),
                width=_coordinate(length),
                text_y=_coordinate(index * ROW + ROW - 6),
                figure_x=_coordinate(NAME_WIDTH + length + 4),
            )
        )
    return Ranking(title=title, bars=bars)
