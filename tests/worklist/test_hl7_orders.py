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
    study = make_study(accession_number="ACC-HL7-1", requested_priority="", patient_location="")
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
