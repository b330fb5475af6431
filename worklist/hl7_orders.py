"""Imaging orders from the RIS as HL7 v2 messages (ORM^O01, OMI^O23), parsed with python-hl7.

Only what triage needs is kept: the accession number that joins the order to its study, the
order priority, and the patient class and location. A message that lacks them is refused with
a reason, never half-stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import hl7

ORDER_MESSAGE_TYPES = {("ORM", "O01"), ("OMI", "O23"), ("OMG", "O19")}
# HL7 table 0004, patient class → words triage.priority recognises in a location.
PATIENT_CLASS_WORDS = {"E": "EMERGENCY", "I": "INPATIENT", "O": "OUTPATIENT", "P": "OUTPATIENT",
                       "R": "OUTPATIENT", "B": "INPATIENT"}


# python-hl7 builds an object per field, repetition and component: 1 MB of separators held a
# worker for ~9 s. A real ORM/OMI has a few hundred; refuse far more before parsing.
MAX_SEPARATORS = 4096
_SEPARATORS = "|^~&"


class Hl7OrderError(ValueError):
    """The message is not an imaging order this application can use; the text says why."""

    http_status = 400

    def api_data(self) -> dict:
        return {"ack": "AE", "detail": str(self)}  # HL7's application error, with the reason


@dataclass(frozen=True)
class ParsedOrder:
    accession_number: str
    order_control: str
    priority: str
    patient_id: str
    patient_class: str
    patient_location: str
    referring_physician: str
    procedure: str
    message_control_id: str


def _get(message, key: str) -> str:
    """A value by HL7 accessor ("OBR.F18.R1.C1"); blank when the segment or field is absent."""
    try:
        return str(message[key] or "").strip()
    except (KeyError, IndexError):
        return ""


def parse_hl7_order(text: str) -> ParsedOrder:
    # Interfaces send \n or \r\n between segments; HL7 wants \r.
    normalised = "\r".join(line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line)
    if not normalised.startswith("MSH"):
        raise Hl7OrderError("not an HL7 v2 message: it must start with an MSH segment")
    if sum(normalised.count(sep) for sep in _SEPARATORS) > MAX_SEPARATORS:
        raise Hl7OrderError(f"more than {MAX_SEPARATORS} field separators: not an imaging order")
    try:
        message = hl7.parse(normalised)
    except Exception as exc:  # noqa: BLE001 - python-hl7 raises several kinds on garbage
        raise Hl7OrderError(f"unreadable HL7 message: {exc}") from exc

    message_type = (_get(message, "MSH.F9.R1.C1"), _get(message, "MSH.F9.R1.C2"))
    if message_type not in ORDER_MESSAGE_TYPES:
        raise Hl7OrderError(f"message type {'^'.join(message_type)} is not an imaging order (ORM^O01, OMI^O23)")
    if not _get(message, "ORC.F1") or not _get(message, "OBR.F1"):
        raise Hl7OrderError("an order needs ORC and OBR segments")

    # IHE Scheduled Workflow: the accession is IPC-1 (OMI) or OBR-18, placer field 1 (ORM).
    accession = (_get(message, "IPC.F1.R1.C1") or _get(message, "OBR.F18.R1.C1")
                 or _get(message, "OBR.F3.R1.C1") or _get(message, "ORC.F3.R1.C1"))
    if not accession:
        raise Hl7OrderError("no accession number (IPC-1, OBR-18 or filler order number)")
    # Priority: TQ1-9 (v2.5+), else ORC-7.6 / OBR-27.6 (quantity/timing, v2.3-2.4).
    priority = (_get(message, "TQ1.F9.R1.C1") or _get(message, "ORC.F7.R1.C6")
                or _get(message, "OBR.F27.R1.C6"))
    patient_class = _get(message, "PV1.F2")
    point_of_care = " ".join(p for p in (_get(message, "PV1.F3.R1.C1"), _get(message, "PV1.F3.R1.C2")) if p)
    location = " ".join(p for p in (PATIENT_CLASS_WORDS.get(patient_class.upper(), ""), point_of_care) if p)
    referring = [_get(message, "OBR.F16.R1.C2") or _get(message, "ORC.F12.R1.C2"),
                 _get(message, "OBR.F16.R1.C3") or _get(message, "ORC.F12.R1.C3")]
    return ParsedOrder(
        accession_number=accession[:64],
        order_control=_get(message, "ORC.F1").upper(),
        priority=priority.upper()[:8],
        patient_id=_get(message, "PID.F3.R1.C1")[:64],
        patient_class=patient_class.upper()[:4],
        patient_location=location[:200],
        referring_physician="^".join(p for p in referring if p)[:200],
        procedure=(_get(message, "OBR.F4.R1.C2") or _get(message, "OBR.F4.R1.C1"))[:200],
        message_control_id=_get(message, "MSH.F10")[:64],
    )
