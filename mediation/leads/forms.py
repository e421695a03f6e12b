"""The grid worker's one-minute lead form."""
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import AppForm
from ..labels import URGENCY_LABELS
from ..parsing import phone_number
from .models import Urgency


class LeadForm(AppForm):
    who = StringField(_l("Who"), validators=[DataRequired(_l("Say who is involved.")),
                                             Length(max=200, message=_l("At most %(max)d characters.", max=200))],
                      render_kw={"placeholder": _l("e.g. the Wang family, 3组: husband and wife")})
    where = StringField(_l("Where"), validators=[DataRequired(_l("Say where.")),
                                                 Length(max=200, message=_l("At most %(max)d characters.", max=200))],
                        render_kw={"placeholder": _l("e.g. 3组12号")})
    what = TextAreaField(_l("What happened"),
                         validators=[DataRequired(_l("Say what happened.")),
                                     Length(max=2000, message=_l("At most %(max)d characters.", max=2000))],
                         render_kw={"rows": 4})
    urgency = RadioField(_l("How urgent"), choices=[(u.value, URGENCY_LABELS[u]) for u in Urgency],
                         default=Urgency.NORMAL.value)
    contact_phone = StringField(
        _l("Contact phone (optional)"), validators=[Optional(), Length(max=40, message=_l(
            "At most %(max)d characters.", max=40))],
        render_kw={"inputmode": "tel", "maxlength": 40})

    def validate_contact_phone(self, field):
        value = phone_number(field.data)  # spaces, hyphens and +86 as people type them
        if value is None:
            raise ValidationError(_l("Enter an 11-digit mobile number or a landline such as 0519-82812345."))
        field.data = value


class DismissForm(AppForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Please give a reason.")),
                                                     Length(max=2000, message=_l("At most %(max)d characters.",
                                                                                 max=2000))],
                           render_kw={"rows": 2})
