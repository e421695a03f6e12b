"""Zero reports (零报告): each village confirms its month, even with no disputes, so that
the monthly report tells "none" from "not reported"."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cases.models import Case
from ..extensions import db
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..transfers.models import Referral, Transfer
from ..users.models import User


class MonthlyConfirmation(db.Model):
    """A village's confirmation of one month: "本月已报" or "本月无纠纷". Never changed."""

    __tablename__ = "monthly_confirmation"
    __table_args__ = (UniqueConstraint("unit_id", "month", name="uq_monthly_confirmation_unit_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    month: Mapped[date] = mapped_column(index=True)  # the first day of the month
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Whether the village registered any case in the month when it confirmed.
    had_cases: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(500), default="")

    unit: Mapped[OrgUnit] = relationship()
    confirmed_by: Mapped[User] = relationship()


# Indexes for the statistics' GROUP BY queries (one per kind of date; see services.compute).
# Declared here, on the other modules' tables, so that those models stay as they are.
def _indexes():
    from sqlalchemy import Index

    c = Case.__table__.c
    return (
        Index("ix_case_record_unit_intake", c.unit_id, c.intake_date),
        Index("ix_case_record_accepted_at", c.accepted_at),
        Index("ix_case_record_concluded_at", c.concluded_at),
        Index("ix_case_record_closed_at", c.closed_at),
        Index("ix_case_transfer_decided_at", Transfer.__table__.c.decided_at),
        Index("ix_case_referral_referred_on", Referral.__table__.c.referred_on),
    )


STATS_INDEXES = _indexes()


# The measures a statistics cell adds up (amounts in fen, durations in seconds), in the order
# of the columns of ``stat_cell``. See ``aggregates`` for what each counts and when.
MEASURES = (
    "registered", "amount_disputed", "people", "dv", "major", "mass",
    "band_1_4", "band_5_9", "band_10_29", "band_30",
    "accepted", "success", "partial", "failed", "terminated", "amount_agreed",
    "closed", "closed_with_acceptance", "closed_seconds",
    "referred", "follow_ups", "sat_satisfied", "sat_basically", "sat_unsatisfied",
    "escalated_out", "escalated_in",
    "in_progress", "open_due",
)
CELL_KEY = ("unit_id", "grain", "day", "via_id", "tier", "category_id")

# The statistics, added up as the events happen (``aggregates``): one row per unit, grain
# (d: a local day; m: a month, ``day`` its first day; n: "now", ``day`` the due date of the
# open cases counted), the child of the unit the cases are held under (``via_id``; the unit
# itself for its own cases), the tier of the holding unit and the category (0: none, for
# escalations). Every case's figures are in the rows of its holder and of each unit above it,
# so a dashboard reads the rows of one unit: O(children x tiers x categories x months).
# Derived data, rebuilt by ``flask --app mediation stats rebuild``: no foreign keys.
stat_cell = db.Table(
    "stat_cell",
    Column("unit_id", Integer, primary_key=True),
    Column("grain", String(1), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("via_id", Integer, primary_key=True),
    Column("tier", String(16), primary_key=True),
    Column("category_id", Integer, primary_key=True),
    *[Column(m, BigInteger, nullable=False, server_default="0") for m in MEASURES],
)
