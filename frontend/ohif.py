"""OHIF, the diagnostic viewer: its prebuilt dist (npm @ohif/app) served by this application.

The dist's webpack public path is "/" (fixed at build time; workers and codecs load their chunks
from it), so its files are served at the site root by WhiteNoise, file by file: a path that is not
one of them falls through to the application. Its own index.html and app-config.js (a public demo
server) are left out: the page is `ohif.html` with our configuration (`frontend/ohif-config.js`),
under /ohif/, and the images come from this application's DICOMweb endpoint (archive.dicomweb).

Not collected by collectstatic: hashing and compressing the dist's 204 MB took about 2 min per run
(43 s CPU against 5 s without it), and collectstatic is not incremental.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe
from whitenoise.middleware import WhiteNoiseMiddleware

from accounts.decorators import forbidden, role_required
from accounts.models import Role
from accounts.permissions import user_has_role
from clinician.selectors import StudyNotVisible, access_visible_study
from worklist.audit import audited_read
from worklist.models import Study

logger = logging.getLogger(__name__)

# Files of the dist that are not the viewer's code or assets: its demo page and configuration.
LEFT_OUT = {"index.html", "app-config.js", "init-service-worker.js", "sw.js", "silent-refresh.html", "serve.json",
            "_headers", "_redirects", "google.js"}
VIEWER_ROLES = (Role.RADIOLOGIST, Role.MANAGER, Role.CLINICIAN)


def ohif_dist() -> Path:
    return Path(settings.OHIF_DIST)


def ohif_bundle() -> str | None:
    """The name of the dist's entry script (app.bundle.<hash>.js), or None when OHIF is not installed."""
    found = sorted(ohif_dist().glob("app.bundle.*.js"))
    return found[0].name if found else None


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise for the collected static files, and OHIF's dist at the site root."""

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings=settings)
        dist = ohif_dist()
        if not dist.is_dir():
            logger.warning("OHIF is not installed at %s (make setup runs npm ci)", dist)
            return
        if self.autorefresh:  # development: found on each request, nothing left out
            self.add_files(str(dist), prefix="/")
            return
        for path in dist.rglob("*"):
            relative = path.relative_to(dist).as_posix()
            if path.is_file() and relative not in LEFT_OUT:
                self.add_file_to_dictionary("/" + relative, str(path))


def _viewer_role(user) -> bool:
    return user_has_role(user, *VIEWER_ROLES)


@require_safe
@role_required(*VIEWER_ROLES)
def ohif_page(request, rest: str = ""):
    """Every OHIF route (/ohif/, /ohif/viewer?StudyInstanceUIDs=...): OHIF's router takes it from here."""
    bundle = ohif_bundle()
    if bundle is None:
        return render(request, "frontend/ohif_missing.html", status=503)
    return render(request, "frontend/ohif.html", {"bundle": bundle})


@require_safe
@login_required
@audited_read("page.ohif")
def ohif_study(request, study_id: int):
    """Open one study in OHIF (from the worklist row, the reading page, the clinician's study page)."""
    user = request.user
    if user_has_role(user, Role.CLINICIAN):
        try:
            study = access_visible_study(user=user, study_id=study_id)
        except StudyNotVisible:
            raise Http404 from None  # not theirs answers as unknown, as everywhere on the clinician side
    elif _viewer_role(user):
        study = get_object_or_404(Study, pk=study_id)
    else:
        return forbidden(request, VIEWER_ROLES)
    return redirect(f"/ohif/viewer?{urlencode({'StudyInstanceUIDs': study.study_instance_uid})}")
