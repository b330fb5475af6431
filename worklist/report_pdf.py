"""The signed report as a PDF: moved to reporting.pdf (one template module per report type)."""

from reporting.pdf import person_name, report_pdf

__all__ = ["person_name", "report_pdf"]
