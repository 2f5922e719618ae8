"""Pictures of a sweep, drawn with Pillow alone: the contact sheet, the chart and the HTML page."""

from .chart import chart
from .page import html_page
from .sheet import contact_sheet

__all__ = ["chart", "contact_sheet", "html_page"]
