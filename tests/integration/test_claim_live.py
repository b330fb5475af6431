"""A claim made through the web server is pushed to every other reader's websocket."""

import pytest
import requests

from tests.integration.helpers import collect_messages, open_worklist_socket, session_cookie
from tests.worklist.factories import make_study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_other_readers_see_a_claim_live(web_server, radiologist, other_radiologist):
    study = make_study(accession_number="ACC-CLAIM-LIVE")
    reader_cookie = session_cookie(radiologist)
    with open_worklist_socket(web_server.url, session_cookie(other_radiologist)) as colleague:
        session = requests.Session()
        session.cookies.set("sessionid", reader_cookie)
        session.get(web_server.url + "/")  # sets the CSRF cookie, as the page does
        response = session.post(f"{web_server.url}/api/studies/{study.pk}/claim/",
                                headers={"X-CSRFToken": session.cookies.get("csrftoken", ""),
                                         "Referer": web_server.url + "/"})
        assert response.status_code == 200, response.text
        messages = collect_messages(colleague, timeout=10, until=lambda ms: any(
            m["type"] == "study.updated" and m["study"]["claimed_by"] == "rosa" for m in ms))
    assert messages[-1]["study"]["reading_state"] == "in_progress"


def test_an_idle_websocket_stays_open_and_still_receives(web_server, radiologist):
    """Regression: with redis-py 8 an idle consumer died after ~5 s (socket timeout = BZPOPMIN timeout)."""
    import time

    from worklist.events import study_publish

    study = make_study(accession_number="ACC-IDLE")
    with open_worklist_socket(web_server.url, session_cookie(radiologist)) as socket:
        time.sleep(12)
        study_publish(study.pk)
        messages = collect_messages(socket, timeout=10, until=lambda ms: any(
            m["type"] == "study.updated" and m["study"]["accession_number"] == "ACC-IDLE" for m in ms))
    assert messages[-1]["study"]["id"] == study.pk
