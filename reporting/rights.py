"""Who may amend a signed report: the written rule, enforced here and nowhere else.

  A signed report may be amended only by an active radiologist, and only by
  1. the radiologist who signed its first version (the author), or
  2. a radiologist a manager has marked as supervisor (`User.is_supervisor`; Django admin or
     `manage.py set_supervisor`, or POST /api/radiologists/<username>/supervisor/ by a manager).
  A manager, a clinician or any other radiologist may read the report but not amend it.
"""

from __future__ import annotations

from accounts.models import Role, User
from reporting.models import ReportVersion
from worklist.models import Study
from worklist.services import audit_record

AMEND_RULE = ("a signed report may be amended by the radiologist who signed it first, or by a radiologist "
              "a manager marked as supervisor")


class AmendNotAllowed(Exception):
    """This user may not amend this report; the text says why."""

    http_status = 403


def report_author(study: Study):
    """The radiologist who signed the first version, or None if the study has no signed report."""
    first = ReportVersion.objects.filter(report__study=study).select_related("author").order_by("number").first()
    return first.author if first else None


def amend_check(*, study: Study, user) -> None:
    """AmendNotAllowed unless `user` may amend this study's signed report (the rule above)."""
    author = report_author(study)
    if user.role != Role.RADIOLOGIST or not user.is_active:
        raise AmendNotAllowed(f"Only radiologists amend reports: {AMEND_RULE}.")
    if author is not None and user.pk != author.pk and not user.is_supervisor:
        raise AmendNotAllowed(f"{author.get_full_name() or author.username} signed this report and may amend it; "
                              f"so may a supervisor ({AMEND_RULE}).")


def supervisor_set(*, manager, username: str, value: bool) -> User:
    """A manager marks (or unmarks) a radiologist as supervisor; audited."""
    user = User.objects.filter(username=username, role=Role.RADIOLOGIST).first()
    if user is None:
        raise AmendNotAllowed(f"no radiologist {username!r}")
    user.is_supervisor = value
    user.save(update_fields=["is_supervisor"])
    audit_record(user=manager, action="user.supervisor", detail=f"{username}: {'yes' if value else 'no'}")
    return user
