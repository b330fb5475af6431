import pytest

from triage.models import UrgencyClass
from triage.priority import DEFAULT_TARGETS
from triage.selectors import urgency_targets


@pytest.mark.django_db
def test_migration_seeds_the_default_classes():
    seeded = {row.code: row.as_target() for row in UrgencyClass.objects.all()}
    assert seeded == DEFAULT_TARGETS


@pytest.mark.django_db
def test_a_manager_edit_changes_the_targets_priority_uses():
    UrgencyClass.objects.filter(code="routine").update(target_minutes=7 * 24 * 60)
    assert urgency_targets()["routine"].minutes == 7 * 24 * 60


@pytest.mark.django_db
def test_a_deleted_class_falls_back_to_its_default():
    UrgencyClass.objects.filter(code="urgent").delete()
    assert urgency_targets()["urgent"] == DEFAULT_TARGETS["urgent"]


def test_every_rule_names_a_known_class():
    from triage import rules

    codes = {code for table in rules.CATEGORY_URGENCY.values() for code in table.values()}
    codes |= {rule.code for rule in rules.FLAG_RULES.values()} | {rules.DEFAULT_FLAG_RULE.code}
    assert codes <= set(DEFAULT_TARGETS)
