"""Indexes on the party columns related cases match on (the ID hash has its own,
``ix_party_id_hash``, on the model). Declared here so the Party model stays as it is."""
from sqlalchemy import Index

from ..cases.models import Party

# Same name with the same birth date; same name with the same phone.
ix_party_name_birth_date = Index("ix_party_name_birth_date", Party.name, Party.birth_date)
ix_party_name_phone = Index("ix_party_name_phone", Party.name, Party.phone)
