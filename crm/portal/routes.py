"""The patient portal ``/p/<token>``: no password, the patient's language, one inquiry."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db, limiter
from ..i18n import LANGUAGE_LOCALES, normalize_locale
from ..main.forms import apply_errors
from ..services import portal
from ..services.errors import ValidationError
from ..services.portal_links import OK
from .forms import NewLinkForm, PortalReplyForm, PortalUploadForm

bp = Blueprint("portal", __name__)


def _portal_limit():
    return current_app.config["PORTAL_RATE_LIMIT"]


limiter.limit(_portal_limit)(bp)


@bp.before_request
def patient_language():
    """The patient's language unless they chose another here (``?lang=``, remembered)."""
    asked = normalize_locale(request.args.get("lang"))
    if asked:
        session["portal_lang"] = asked
    g.locale_override = session.get("portal_lang")


@bp.after_request
def no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _open(token: str):
    """The link's case, or the page that offers a fresh link (the same for every failure)."""
    status, link = portal.open_link(token)
    if status != OK:
        return None
    if not g.get("locale_override"):
        g.locale_override = LANGUAGE_LOCALES.get(link.inquiry.patient.preferred_language, "en")
    return link


def _expired():
    return render_template("portal/expired.html", form=NewLinkForm()), 404


@bp.route("/p/<token>")
def view(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    db.session.commit()
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(), upload_form=_upload_form(link))


def _upload_form(link, formdata=None):
    form = PortalUploadForm(formdata=formdata) if formdata is not None else PortalUploadForm()
    form.item.choices = portal.item_choices(link)
    return form


@bp.route("/p/<token>/reply", methods=["POST"])
def reply(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = PortalReplyForm()
    if form.validate_on_submit():
        portal.reply(link, form.body.data)
        db.session.commit()
        flash(_("Thank you. Your message has been sent to your care coordinator."), "success")
        return redirect(url_for(".view", token=token) + "#thread"), 303
    return render_template("portal/view.html", token=token, **portal.page(link), reply_form=form,
                           upload_form=_upload_form(link)), 422


@bp.route("/p/<token>/upload", methods=["POST"])
def upload(token: str):
    link = _open(token)
    if link is None:
        return _expired()
    form = _upload_form(link, request.form)
    form.file.data = request.files.get("file")
    if form.validate_on_submit():
        try:
            document = portal.upload(link, form.file.data, form.item.data)
        except ValidationError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Thank you. We have received “%(name)s”.", name=document.filename), "success")
            return redirect(url_for(".view", token=token) + "#records"), 303
    link = _open(token)
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(), upload_form=form), 422


@bp.route("/p/new-link", methods=["POST"])
@limiter.limit("5 per hour")
def new_link():
    """Whatever was typed, the same answer: a fresh link goes only to the address on file."""
    form = NewLinkForm()
    if form.validate_on_submit():
        portal.send_fresh_link(form.email.data, request.form.get("token", ""))
        db.session.commit()
        return render_template("portal/link_sent.html")
    return render_template("portal/expired.html", form=form), 422


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A request far over the limit, refused before it is read, in the patient's language."""
    token = (request.view_args or {}).get("token", "")
    link = _open(token) if token else None
    if link is None:
        return _expired()[0], 413
    form = PortalUploadForm(formdata=None)  # the body is not read again: it is too large
    form.item.choices = portal.item_choices(link)
    form.file.errors = [_("This file is larger than %(max)s MB. Send it in parts, or as a ZIP.",
                          max=current_app.config["MAX_UPLOAD_MB"])]
    return render_template("portal/view.html", token=token, **portal.page(link),
                           reply_form=PortalReplyForm(formdata=None), upload_form=form), 413
