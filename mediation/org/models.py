"""The 1+9+X network: one station, its platforms and their villages."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..timeutil import utcnow


class Tier(enum.Enum):
    """Tiers in their order from the top; a child is always exactly one tier lower.

    A district's 1+9+X network is a station (the district's mediation committee), its
    platforms and their villages: only these hold cases (``CASE_TIERS``). A province
    deployment puts the districts' stations under city units and those under one
    province unit; their users see the network and the statistics, never a case."""

    PROVINCE = "province"
    CITY = "city"
    STATION = "station"
    PLATFORM = "platform"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        return list(Tier).index(self)

    @property
    def child(self) -> "Tier | None":
        order = list(Tier)
        return order[self.depth + 1] if self.depth + 1 < len(order) else None

    @property
    def holds_cases(self) -> bool:
        """Station, platform and village: the tiers of a district's network."""
        return self in CASE_TIERS


# The tiers that hold cases (a district's 1+9+X network), and those above the districts.
CASE_TIERS = frozenset({Tier.STATION, Tier.PLATFORM, Tier.VILLAGE})
UPPER_TIERS = frozenset({Tier.PROVINCE, Tier.CITY})


class OrgUnit(db.Model):
    """A node of the network. ``path`` is "/<id>/<id>/.../" from the root, so a
    subtree is one indexed prefix match."""

    __tablename__ = "org_unit"
    # varchar_pattern_ops lets PostgreSQL serve the prefix LIKE of subtree queries.
    __table_args__ = (Index("ix_org_unit_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    tier: Mapped[Tier] = mapped_column(
        enum_column(Tier, 16)
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["OrgUnit"]] = relationship(
        back_populates="parent", order_by="OrgUnit.code"
    )

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"

    @hybrid_property
    def tier_rank(self) -> int:
        """The tier's depth from the top (for ordering in SQL): province 0 ... village 4."""
        return self.tier.depth

    @tier_rank.inplace.expression
    @classmethod
    def _tier_rank_expression(cls):
        return case(*[(cls.tier == t, t.depth) for t in Tier])

    @property
    def label(self) -> str:
        """Name with its parent's name for villages, since village names repeat
        (two villages are called 新河村)."""
        if self.tier is Tier.VILLAGE and self.parent is not None:
            return f"{self.name}（{self.parent.name}）"
        return self.name

    @property
    def path_ids(self) -> list[int]:
        """The ids on the path, from the root down to this unit itself."""
        return [int(part) for part in self.path.strip("/").split("/") if part.isdigit()]

    def contains(self, other: "OrgUnit") -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other.path.startswith(self.path)

    @property
    def station(self) -> "OrgUnit | None":
        """The district station whose network this unit belongs to (itself for a station);
        None above the districts."""
        node = self
        while node is not None and node.tier is not Tier.STATION:
            if node.tier in UPPER_TIERS:
                return None
            node = node.parent
        return node

    def ancestors(self) -> list["OrgUnit"]:
        """From the root down to the parent."""
        chain = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))
