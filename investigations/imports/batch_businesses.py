"""BatchBusinesses: the business of each name in an import, found or created a batch at a time."""
from collections.abc import Iterable

from sqlalchemy import select

from .. import audit
from ..businesses.naming import slugify
from ..businesses.queries import follow_merges
from ..database import insert_if_absent
from ..extensions import db
from ..models import Business, BusinessAlias, utcnow
from .row_mapping import normalized_name


def _business_map() -> dict[str, int]:
    """normalized name (or alias) -> id of the business it finds (following merges), as find_business does."""
    merged = dict(db.session.execute(select(Business.id, Business.merged_into_id)).all())

    def survivor(business_id: int) -> int:
        seen = set()
        while merged.get(business_id) is not None and business_id not in seen:
            seen.add(business_id)
            business_id = merged[business_id]
        return business_id

    names = {name: survivor(business_id) for business_id, name in
             db.session.execute(select(Business.id, Business.normalized_name))}
    for name, business_id in db.session.execute(select(BusinessAlias.normalized_name, BusinessAlias.business_id)):
        names.setdefault(name, survivor(business_id))
    return names


class BatchBusinesses:
    """The business ids of an import run's names: every business loaded once when the run starts, the
    names a batch adds found or created before its cases are inserted."""

    def __init__(self):
        self.business_ids = _business_map()  # normalized name -> id, loaded once; new ones added per batch
        self.by_name: dict[str, int] = {}  # the names as written in the file -> id

    def add(self, names: Iterable[str]) -> int:
        """Find or create, a few statements for the whole batch, the businesses of names the map does not
        know: as find_or_create_business does one by one (a name or alias another user added since the run
        began is found, merges followed; a new business gets a unique slug and a business.create event).
        Returns how many businesses it created."""
        wanted: dict[str, str] = {}  # normalized -> the name as first written in the batch
        for name in names:
            if name not in self.by_name:
                key = normalized_name(name)
                if key not in self.business_ids:
                    wanted.setdefault(key, name)
        if not wanted:
            return 0
        self._look_up(list(wanted))
        missing = {key: name for key, name in wanted.items() if key not in self.business_ids}
        if not missing:
            return 0
        session = db.session
        connection = session.connection()
        table = Business.__table__
        taken = set(session.scalars(select(Business.slug).where(Business.slug.in_(
            {slugify(name) for name in missing.values()}))))
        now = utcnow()
        created = []
        for key, name in missing.items():
            base = slugify(name)
            slug, n = base, 2
            while slug in taken or (slug != base and session.scalar(select(Business.id).where(Business.slug == slug))):
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            values = {"name": name, "normalized_name": key, "slug": slug, "created_at": now, "updated_at": now}
            if connection.execute(insert_if_absent(connection, table, values, ["normalized_name"])).rowcount:
                created.append(key)
        self._look_up(list(missing))  # the new ones, and any another user added a moment ago
        if created:
            for business in session.scalars(select(Business).where(Business.normalized_name.in_(created))
                                            .order_by(Business.id)):
                audit.record("business.create", business, name=business.name)
        return len(created)

    def _look_up(self, keys: list[str]) -> None:
        """Add to the map those of these normalized names that are a business's name or alias."""
        session = db.session
        found = {key: (business_id, merged) for key, business_id, merged in session.execute(
            select(Business.normalized_name, Business.id, Business.merged_into_id)
            .where(Business.normalized_name.in_(keys)))}
        for key, business_id in session.execute(select(BusinessAlias.normalized_name, BusinessAlias.business_id)
                                                .where(BusinessAlias.normalized_name.in_(keys))):
            found.setdefault(key, (business_id, True))
        for key, (business_id, merged) in found.items():
            if merged:
                business_id = follow_merges(session.get(Business, business_id)).id
            self.business_ids[key] = business_id

    def business_id(self, name: str) -> int:
        business_id = self.by_name.get(name)  # the same spelling again: no normalizing
        if business_id is None:
            business_id = self.business_ids[normalized_name(name)]  # add() found or made it
            if len(self.by_name) < 100_000:
                self.by_name[name] = business_id
        return business_id
