"""Free text: any study without a structured template (and any study, if the reader chooses it)."""

from reporting.report_types.base import ReportType

TYPE = ReportType()
