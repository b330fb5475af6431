"""The reading page's live socket (api.js liveSocket): when it drops, the page reconnects and re-reads
the study over REST, since the channel layer delivers at most once and a change made while the socket
was down sends no message the page could still receive."""

import pytest
from playwright.sync_api import expect

from tests.reporting.stored import stored_ct
from worklist.models import Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_dropped_socket_reconnects_and_the_page_reads_what_changed_meanwhile(
        orthanc, web_server, login, radiologist):
    study, _, _ = stored_ct("PID-LIVE", "ACC-BEFORE", slices=2)
    page = login(radiologist)
    sockets, greeted = [], []

    def bridge(ws):
        # The page's socket, passed through to the real server; its "hello" says the page is connected.
        server = ws.connect_to_server()

        def to_page(message):
            ws.send(message)
            if '"hello"' in str(message):
                greeted.append(ws)

        server.on_message(to_page)
        sockets.append(ws)

    def wait_until(condition):
        for _ in range(200):  # Playwright runs the route's callbacks while the page waits
            if condition():
                return
            page.wait_for_timeout(50)
        raise AssertionError("the page's socket did not connect")

    page.route_web_socket("**/ws/worklist/", bridge)
    page.goto(f"{web_server.url}/studies/{study.pk}/")
    expect(page.locator("#study-description")).to_contain_text("ACC-BEFORE")
    wait_until(lambda: len(greeted) == 1)

    # A change that publishes nothing (a queryset update sends no event), then the socket drops.
    Study.objects.filter(pk=study.pk).update(accession_number="ACC-AFTER")
    sockets[0].close()
    wait_until(lambda: len(greeted) == 2)  # reconnected (after liveSocket's one-second backoff)
    expect(page.locator("#study-description")).to_contain_text("ACC-AFTER")
