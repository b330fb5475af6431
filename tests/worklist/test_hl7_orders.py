"""RIS orders over HL7 v2: parsed, refused with a reason, and used by triage."""

import pytest

from tests.worklist.factories import make_study
from worklist.hl7_orders import Hl7OrderError, parse_hl7_order
from worklist.models import Order


def orm(*, accession="ACC-HL7-1", priority="S", patient_class="E", message_type="ORM^O01"):
    obr = ["OBR", "1", "PLC123", "FIL456", "CTCHEST^CT Chest without contrast", "", "", "20261125100000"]
    obr += [""] * 8 + ["DR123^WHO^REFERRED", "", accession]
    return "\r".join([
        f"MSH|^~\\&|RIS|HOSP|TRIAGE|RAD|20261125101500||{message_type}|MSG0001|P|2.3.1",
        "PID|1||PID-77^^^HOSP||DOE^JANE||19600102|F",
        f"PV1|1|{patient_class}|ED^BAY3",
        f"ORC|NW|PLC123|FIL456||SC||^^^^^{priority}",
        "|".join(obr),
    ])


def test_an_orm_gives_accession_priority_and_location():
    order = parse_hl7_order(orm())
    assert order.accession_number == "ACC-HL7-1"
    assert order.priority == "S"
    assert order.patient_class == "E" and order.patient_location == "EMERGENCY ED BAY3"
    assert order.referring_physician == "WHO^REFERRED"
    assert order.procedure == "CT Chest without contrast"


def test_newline_separated_messages_are_accepted():
    assert parse_hl7_order(orm().replace("\r", "\n")).accession_number == "ACC-HL7-1"


@pytest.mark.parametrize(
    "message, reason",
    [
        ("hello", "must start with an MSH segment"),
        (orm(message_type="ADT^A01"), "is not an imaging order"),
        (orm(accession="").replace("|PLC123|FIL456|CT", "|||CT").replace("ORC|NW|PLC123|FIL456", "ORC|NW||"),
         "no accession number"),
    ],
)
def test_unusable_messages_are_refused_with_a_reason(message, reason):
    with pytest.raises(Hl7OrderError, match=reason):
        parse_hl7_order(message)


@pytest.mark.django_db
def test_an_order_arriving_after_its_study_raises_its_priority(api_as, make_user):
    interface = make_user("ris", "interface")
    study = make_study(accession_number="ACC-HL7-1", patient_id="PID-77", requested_priority="", patient_location="")
    assert study.urgency_code == "routine"
    response = api_as(interface).post("/api/orders/hl7/", data=orm(), content_type="application/hl7-v2")
    assert response.status_code == 200 and response.json()["ack"] == "AA"
    study.refresh_from_db()
    assert study.urgency_code == "stat"
    assert Order.objects.get(accession_number="ACC-HL7-1").priority == "S"


@pytest.mark.django_db
def test_order_api_refuses_garbage_and_other_roles(api_as, make_user, radiologist):
    interface = make_user("ris", "interface")
    response = api_as(interface).post("/api/orders/hl7/", data="MSH|broken", content_type="text/plain")
    assert response.status_code == 400 and response.json()["ack"] == "AE"
    assert api_as(radiologist).post("/api/orders/hl7/", data=orm(), content_type="text/plain").status_code == 403


def hl7_post(client, message: str):
    return client.post("/api/orders/hl7/", data=message, content_type="application/hl7-v2")


@pytest.mark.django_db
def test_an_order_naming_another_patient_than_its_study_is_refused_and_shown_to_managers(api_as, make_user,
                                                                                         manager):
    from worklist.models import Alert, AuditEvent

    interface = make_user("ris", "interface")
    study = make_study(accession_number="ACC-HL7-1", patient_id="PID-1", requested_priority="",
                       patient_location="")
    response = hl7_post(api_as(interface), orm())  # PID-77, referrer WHO^REFERRED
    assert response.status_code == 400 and response.json()["ack"] == "AE"
    assert "names patient PID-77" in response.json()["detail"] and "PID-1" in response.json()["detail"]
    study.refresh_from_db()
    assert study.urgency_code == "routine"  # not raised to STAT by another patient's order
    assert not Order.objects.exists()
    alert = Alert.objects.get(kind=Alert.Kind.ORDER_PATIENT_MISMATCH, study=study)
    assert "PID-77" in alert.message
    assert [a["kind"] for a in api_as(manager).get("/api/alerts/").json()] == ["order_patient_mismatch"]
    assert AuditEvent.objects.filter(action="order.refused", study=study).exists()


@pytest.mark.django_db
def test_a_changed_order_may_not_switch_patient(api_as, make_user):
    interface = make_user("ris", "interface")
    assert hl7_post(api_as(interface), orm()).json()["ack"] == "AA"
    other = orm().replace("PID-77^^^HOSP", "PID-88^^^HOSP")
    response = hl7_post(api_as(interface), other)
    assert response.status_code == 400 and "names patient PID-88" in response.json()["detail"]
    assert Order.objects.get().patient_id == "PID-77"


@pytest.mark.django_db
def test_a_study_never_takes_priority_or_clinician_access_from_another_patients_order(make_user):
    from clinician.selectors import clinician_studies
    from clinician.services import referrer_link

    clinician = make_user("who", "clinician")
    referrer_link(user=clinician, referring_name="WHO^REFERRED", created_by=None)
    Order.objects.create(accession_number="ACC-X", patient_id="PID-77", priority="S",
                         referring_physician="WHO^REFERRED")
    mine = make_study(accession_number="ACC-X", patient_id="PID-77", requested_priority="", patient_location="",
                      referring_physician="")
    other = make_study(accession_number="ACC-X", patient_id="PID-2", requested_priority="", patient_location="",
                       referring_physician="")
    assert (mine.urgency_code, other.urgency_code) == ("stat", "routine")
    assert list(clinician_studies(clinician)) == [mine]


@pytest.mark.django_db
def test_hl7_bodies_are_capped(api_as, make_user, settings):
    interface = make_user("ris", "interface")
    response = hl7_post(api_as(interface), orm() + "\r" + "NTE|1||" + "x" * settings.HL7_MAX_BYTES)
    assert response.status_code == 413
    assert not Order.objects.exists()


def test_a_message_of_separators_is_refused_quickly():
    import time

    started = time.perf_counter()
    with pytest.raises(Hl7OrderError, match="separators"):
        parse_hl7_order(orm() + "\rNTE|" + "^" * 60_000)
    assert time.perf_counter() - started < 0.1  # it took ~0.4 s per 64 KB in python-hl7's parser


@pytest.mark.django_db
def test_every_request_body_is_capped(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/login/", data="x" * 2000, content_type="text/plain")
    assert response.status_code == 413
