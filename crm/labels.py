"""Translated labels of the contract's codes: stages, outcomes, services, sources, sexes."""
from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    "new": _l("New"), "intake": _l("Intake"), "records": _l("Records"),
    "clinical_review": _l("Clinical review"), "financial_clearance": _l("Financial clearance"),
    "scheduling": _l("Scheduling"), "travel": _l("Travel"), "in_care": _l("In care"),
    "follow_up": _l("Follow-up"), "closed": _l("Closed"),
}
OUTCOME_LABELS = {
    "completed": _l("Completed"), "declined_by_patient": _l("Declined by patient"),
    "not_accepted": _l("Not accepted"), "no_response": _l("No response"),
    "referred_elsewhere": _l("Referred elsewhere"), "duplicate": _l("Duplicate"),
}
SERVICE_LABELS = {
    "second_opinion_in_person": _l("Second opinion (in person)"),
    "second_opinion_online": _l("Online second opinion"),
    "treatment": _l("Treatment"), "surgery": _l("Surgery"), "clinical_trial": _l("Clinical trial"),
}
SOURCE_LABELS = {
    "email": _l("Email"), "web_form": _l("Online request form"), "referral": _l("Physician referral"),
    "phone": _l("Phone call"), "api": _l("Integration (API)"),
}
SEX_LABELS = {"female": _l("Female"), "male": _l("Male"), "other": _l("Other"),
              "unknown": _l("Prefer not to say")}
ROLE_LABELS = {"coordinator": _l("Care coordinator"), "manager": _l("Manager"),
               "admin": _l("Administrator")}
#: What a stage means to a patient, in plain words (the portal and patient mail use these).
STAGE_PATIENT_TEXT = {
    "new": _l("We have received your request."),
    "intake": _l("A care coordinator is reviewing your request."),
    "records": _l("We are collecting your medical records."),
    "clinical_review": _l("Our physicians are reviewing your case."),
    "financial_clearance": _l("We are preparing the cost estimate and insurance approval."),
    "scheduling": _l("We are scheduling your appointments."),
    "travel": _l("We are helping you plan your trip."),
    "in_care": _l("You are in our care."),
    "follow_up": _l("We are following up after your care."),
    "closed": _l("Your request is closed."),
}
TASK_LABELS = {
    "first_response": _l("Answer the patient for the first time"),
    "records_chase": _l("Chase the missing records"),
    "post_visit_checkin": _l("Check in with the patient after care"),
    "stalled_case": _l("Case without activity for seven days: move it on"),
    "call_patient": _l("Call the patient: records still missing after three reminders"),
    "answer_patient": _l("Answer the patient's message"),
    "review_records": _l("Review the records the patient sent"),
    "register_mrn": _l("Enter the medical record number from the registration center"),
}
#: A reviewing physician's decision (``ClinicalReview.decision``).
REVIEW_DECISION_LABELS = {"accept": _l("Accept the case"), "decline": _l("Decline the case"),
                          "more_records": _l("Ask for more records")}
#: A step of the journey strip, for staff (shown beside an icon, never by colour alone).
STEP_STATE_LABELS = {"done": _l("Done"), "current": _l("In progress"), "blocked": _l("Blocked"),
                     "todo": _l("Not started"), "skipped": _l("Not needed")}
#: The same, for the patient in the portal.
STEP_STATE_PATIENT_LABELS = {"done": _l("Done"), "current": _l("In progress"), "blocked": _l("In progress"),
                             "todo": _l("Coming up")}
#: The records a coordinator can ask a patient for (the checklist in mail and in the portal).
RECORD_ITEM_LABELS = {
    "medical_summary": _l("A recent medical summary or letter from your physician"),
    "imaging_reports": _l("Imaging reports (CT, MRI, ultrasound, X-ray)"),
    "imaging_files": _l("The imaging itself (DICOM files, on a CD or as a ZIP)"),
    "lab_results": _l("Laboratory results from the last six months"),
    "pathology": _l("Pathology or biopsy reports"),
    "medication_list": _l("The list of medicines you take"),
    "operative_notes": _l("Reports of earlier operations"),
    "insurance_card": _l("Your insurance card or guarantee letter"),
    "passport": _l("The photo page of your passport"),
}
#: What each entry of the thread is.
MESSAGE_KIND_LABELS = {
    "email": _l("Email"), "portal_reply": _l("Message from the portal"), "upload": _l("Upload from the portal"),
    "auto_reply": _l("Automatic reply"), "bounce": _l("Delivery failure"),
    "acknowledgement": _l("Acknowledgement"), "records_request": _l("Records request"),
    "reminder": _l("Reminder"), "appointment": _l("Appointment details"), "travel": _l("Travel details"),
    "opinion_ready": _l("Opinion ready"), "reply": _l("Reply"), "portal_link": _l("New portal link"),
    "digest": _l("Daily digest"), "escalation": _l("Escalation"),
}
OUTBOX_STATUS_LABELS = {"queued": _l("Waiting to be sent"), "sent": _l("Sent"), "failed": _l("Not delivered")}
DOCUMENT_SOURCE_LABELS = {"email": _l("by email"), "portal": _l("from the portal"), "staff": _l("by staff")}
#: The journey's later steps: their mail and the patient's answers on the thread.
MESSAGE_KIND_LABELS.update({
    "appointment_cancelled": _l("Appointment cancelled"), "estimate": _l("Cost estimate"),
    "visa_letter": _l("Visa letter"), "opinion_addendum": _l("Addendum to the opinion"),
    "travel_reply": _l("Travel plan confirmed in the portal"), "opinion_question": _l("Question on the opinion"),
})
