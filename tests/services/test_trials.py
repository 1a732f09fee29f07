"""Clinical trials: interest recorded, the trial named and its registry id checked; the case is
routed and moved like any other."""
import pytest
from sqlalchemy import select

from crm.models import AuditEvent
from crm.services import pipeline, trials
from crm.services.errors import StaleVersion, ValidationError


@pytest.fixture
def coordinator(factory):
    return factory.user(centers=("cardiology", "cancer"))


def record(inquiry, actor, **kw):
    return trials.record_trial(inquiry, actor=actor, expected_version=inquiry.version, **kw)


@pytest.mark.parametrize("typed, kept", [
    ("NCT01234567", "NCT01234567"), (" nct 0123 4567 ", "NCT01234567"),
    ("ISRCTN12345678", "ISRCTN12345678"), ("2004-000123-12", "2004-000123-12"),
    ("2022-500024-30-00", "2022-500024-30-00"),
])
def test_registry_ids_of_the_known_registries_are_kept_in_their_own_writing(typed, kept):
    errors = {}
    assert trials.clean_registry_id(typed, "trial_registry_id", errors) == kept and errors == {}


@pytest.mark.parametrize("typed", ["NCT1234567", "NCT012345678", "ABC01234567", "01234567", "NCT0123456X"])
def test_other_ids_are_refused_with_a_message(typed):
    errors = {}
    assert trials.clean_registry_id(typed, "trial_registry_id", errors) is None
    assert "NCT01234567" in str(errors["trial_registry_id"])


def test_a_trial_case_is_routed_and_walked_like_any_other(factory, coordinator, db):
    inquiry = factory.inquiry(service="clinical_trial", center="", coordinator_id="",
                              reason="Metastatic colorectal cancer, looking for an immunotherapy trial")
    assert inquiry.center is not None and inquiry.center.key == "cancer"  # routed by its reason
    assert pipeline.path_for("clinical_trial") == pipeline.OPEN_STAGES
    changed = record(inquiry, coordinator, interested=False, name="KEYNOTE-177", registry_id="nct02563002")
    assert set(changed) == {"trial_name", "trial_registry_id", "trial_interest_at"}
    assert inquiry.trial_registry_id == "NCT02563002" and inquiry.trial_interest_at is not None
    assert trials.registry_url(inquiry.trial_registry_id) == "https://clinicaltrials.gov/study/NCT02563002"
    factory.walk(inquiry, "scheduling", coordinator)
    assert inquiry.stage == "scheduling"


def test_interest_of_another_service_is_recorded_and_can_be_withdrawn(factory, coordinator, db):
    inquiry = factory.inquiry(service="treatment")
    assert not inquiry.wants_trial
    version = inquiry.version
    record(inquiry, coordinator, interested=True)
    assert inquiry.wants_trial and inquiry.trial_name is None and inquiry.version == version + 1
    assert record(inquiry, coordinator, interested=True) == []  # nothing new: no version bump
    record(inquiry, coordinator, interested=False)
    assert not inquiry.wants_trial and inquiry.trial_interest_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.inquiry_id == inquiry.id,
                                                        AuditEvent.detail.like("fields=trial%"))).first()
    assert event is not None


def test_bad_trial_input_saves_nothing(factory, coordinator, db):
    inquiry = factory.inquiry(service="clinical_trial")
    with pytest.raises(ValidationError) as error:
        record(inquiry, coordinator, interested=True, name="x" * 301, registry_id="NCT123")
    assert set(error.value.fields) == {"trial_name", "trial_registry_id"}
    assert inquiry.trial_name is None and inquiry.trial_interest_at is None
    with pytest.raises(StaleVersion):
        trials.record_trial(inquiry, actor=coordinator, expected_version=inquiry.version + 1,
                            interested=True, name="KEYNOTE")
