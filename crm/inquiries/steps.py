"""What the case page shows of the journey's steps: the strip, the records checklist completed,
the clinical review, registration and the clinical trial, with their forms (ready data only)."""
from __future__ import annotations

from ..models import Document, Inquiry
from ..services import journey, pipeline, records, review, trials
from ..services.facts import Facts
from .forms import MrnForm, ReviewForm, TrialForm, WaiveForm


def context(inquiry: Inquiry, facts: Facts, documents: list[Document], moves: list[str], forms: dict) -> dict:
    """The template's data for the journey's cards; ``forms`` holds a submitted form to show
    again with its errors (``review_form``, ``mrn_form``, ``trial_form``, ``waive_form`` with
    ``waive_item_id``)."""
    patient = inquiry.patient
    show_review = inquiry.stage in review.NAMING_STAGES or bool(facts.reviews)
    review_form = forms.get("review_form")
    can_review = inquiry.stage in review.NAMING_STAGES
    if can_review:
        review_form = review_form or ReviewForm(formdata=None, version=inquiry.version)
        review_form.set_choices(review.reviewers(), decisions=inquiry.stage == review.DECISION_STAGE)
        pending = facts.review if facts.review is not None and facts.review.decision is None else None
        if review_form.reviewer_id.data is None and pending is not None:
            review_form.reviewer_id.data = str(pending.reviewer_id or "")
            review_form.reviewer_name.data = pending.reviewer_name
    trial_form = forms.get("trial_form") or TrialForm(
        formdata=None, version=inquiry.version, interested=inquiry.trial_interest_at is not None,
        trial_name=inquiry.trial_name, trial_registry_id=inquiry.trial_registry_id)
    return {
        "journey": journey.journey(inquiry, facts),
        "blocked": {to: str(error.message)
                    for to, error in pipeline.blocked_moves(inquiry, moves, facts).items()},
        "record_rows": records.rows(facts.checklist, documents),
        "waive_form": forms.get("waive_form") or WaiveForm(formdata=None),
        "waive_item_id": forms.get("waive_item_id"),
        "show_review": show_review, "reviews": facts.reviews, "review": facts.review,
        "review_form": review_form if can_review else None,
        "offer_not_accepted": review.is_declined(facts) and inquiry.stage == review.DECISION_STAGE,
        "mrn_form": forms.get("mrn_form") or MrnForm(formdata=None, version=patient.version,
                                                     mrn=patient.mrn),
        "trial_form": trial_form,
        "trial_url": trials.registry_url(inquiry.trial_registry_id),
    }
