"""case source: where a case came from and the CFPB's own fields

A case keeps its source (cfpb, csv, public_form, staff) and the source's own ID, unique together:
they replace source_ref ("cfpb:4201337"), which said the same in one string. The CFPB's fields of
an imported complaint (product, issue, company response, timely, disputed, submitted via, the
consumer's state and ZIP) become columns. Existing imported cases are filled from what the import
wrote: source_ref, the title ("Issue — Sub-issue"), the placeholder narrative ("Product: …"), the
business response's lines, the first timeline entry ("…, submitted via Web.") and the complainant
address ("CA 94110").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 17:30:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CHUNK = 2000
CFPB_FIELDS = ('product', 'sub_product', 'issue', 'sub_issue', 'company_response', 'timely_response',
               'consumer_disputed', 'submitted_via', 'consumer_state', 'consumer_zip')
SEARCH_DOCUMENT_COLUMNS = ('source', 'source_id', 'product', 'issue', 'company_response')
SEARCH_TERM_COLUMNS = ('source', 'source_id', 'product', 'issue', 'company_response')
SEARCH_COLUMN_LENGTHS = {'source': 20, 'source_id': 80, 'product': 200, 'issue': 200, 'company_response': 200}
DASH = " — "  # how the import joined issue and sub-issue, product and sub-product
_PRODUCT = re.compile(r"^No narrative was published with this complaint\. Product: (.*); Issue: ")
_SUBMITTED_VIA = re.compile(r"complaint [^,.\s]+, submitted via (.+?)\.(?: |$)")
_RESPONSE = re.compile(r"Company response to consumer: (.+?)\.(?: |$)")
_STATE_ZIP = re.compile(r"^([A-Z]{2})?\s*([0-9X]{3,5}(?:-[0-9]{4})?)?$")


def _pair(text, limit=200):
    if not text or text == "not given":
        return None, None
    first, _, second = text.partition(DASH)
    return first[:limit] or None, second[:limit] or None


def _yes_no(value):
    value = (value or "").strip().casefold()
    return True if value == "yes" else False if value == "no" else None


def cfpb_fields(title, narrative, business_response, address, first_entry):
    """The CFPB's fields as far as an imported case's text keeps them."""
    issue, sub_issue = _pair(title)
    product = sub_product = None
    if narrative and (match := _PRODUCT.match(narrative)):
        product, sub_product = _pair(match.group(1))
    values = {"issue": issue, "sub_issue": sub_issue, "product": product, "sub_product": sub_product}
    lines = dict(line.split(": ", 1) for line in (business_response or "").splitlines() if ": " in line)
    response = lines.get("Company response to consumer")
    if not response and first_entry and (match := _RESPONSE.search(first_entry)):
        response = match.group(1)
    values["company_response"] = response[:200] if response else None
    values["timely_response"] = _yes_no(lines.get("Timely response"))
    values["consumer_disputed"] = _yes_no(lines.get("Consumer disputed"))
    via = _SUBMITTED_VIA.search(first_entry or "")
    values["submitted_via"] = via.group(1)[:50] if via else None
    state = zip_code = None
    if address and (match := _STATE_ZIP.match(address.strip())):
        state, zip_code = match.group(1), match.group(2)
    values["consumer_state"], values["consumer_zip"] = state, zip_code
    return values


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='staff', nullable=False))
        batch_op.add_column(sa.Column('source_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('product', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sub_product', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('issue', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sub_issue', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('company_response', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('timely_response', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('consumer_disputed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('submitted_via', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('consumer_state', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('consumer_zip', sa.String(length=10), nullable=True))

    bind = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('source_ref', sa.String),
                     sa.column('received_via', sa.String), sa.column('title', sa.String),
                     sa.column('narrative', sa.Text), sa.column('business_response', sa.Text),
                     sa.column('complainant_address', sa.Text), sa.column('source', sa.String),
                     sa.column('source_id', sa.String), *(sa.column(name) for name in CFPB_FIELDS))
    entries = sa.table('timeline_entries', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
                       sa.column('kind', sa.String), sa.column('body', sa.Text))

    # Cases imported from a CSV file without an external ID had no source_ref, only received_via.
    bind.execute(cases.update().where(cases.c.source_ref.is_(None), cases.c.received_via == 'import')
                 .values(source='csv'))
    bind.execute(cases.update().where(cases.c.source_ref.like('csv:%'))
                 .values(source='csv', source_id=sa.func.substr(cases.c.source_ref, 5)))

    # CFPB cases, a chunk at a time, with the first timeline entry of each (the import's "created" line).
    earlier = entries.alias('earlier')
    first_entry = (sa.select(sa.func.min(earlier.c.id)).where(earlier.c.case_id == cases.c.id,
                                                             earlier.c.kind == 'created')
                   .correlate(cases).scalar_subquery())
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, cases.c.source_ref, cases.c.title, cases.c.narrative, cases.c.business_response,
                      cases.c.complainant_address, entries.c.body)
            .select_from(cases.outerjoin(entries, entries.c.id == first_entry))
            .where(cases.c.source_ref.like('cfpb:%'), cases.c.id > last_id)
            .order_by(cases.c.id).limit(CHUNK)).all()
        if not rows:
            break
        last_id = rows[-1].id
        updates = [{"case_id": row.id, "new_source_id": row.source_ref[5:],
                    **{f"new_{key}": value for key, value in cfpb_fields(
                        row.title, row.narrative, row.business_response, row.complainant_address, row.body).items()}}
                   for row in rows]
        bind.execute(cases.update().where(cases.c.id == sa.bindparam('case_id')).values(
            source='cfpb', **{key: sa.bindparam(f"new_{key}") for key in ('source_id', *CFPB_FIELDS)}), updates)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_source_ref'), type_='unique')
        batch_op.drop_column('source_ref')
        batch_op.create_unique_constraint(batch_op.f('uq_cases_source_source_id'), ['source', 'source_id'])

    # The PostgreSQL engine's documents get the new facets; they are filled by `flask search reindex`
    # (every engine's documents changed: the README's upgrade note).
    for table, names in (('search_documents', SEARCH_DOCUMENT_COLUMNS), ('search_terms', SEARCH_TERM_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in names:
                batch_op.add_column(sa.Column(name, sa.String(length=SEARCH_COLUMN_LENGTHS[name]), server_default='',
                                              nullable=False))


def downgrade():
    for table, names in (('search_terms', SEARCH_TERM_COLUMNS), ('search_documents', SEARCH_DOCUMENT_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(names):
                batch_op.drop_column(name)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_ref', sa.String(length=80), nullable=True))
    bind = op.get_bind()
    cases = sa.table('cases', sa.column('source_ref', sa.String), sa.column('source', sa.String),
                     sa.column('source_id', sa.String))
    bind.execute(cases.update().where(cases.c.source.in_(('cfpb', 'csv')), cases.c.source_id.is_not(None))
                 .values(source_ref=cases.c.source + ':' + cases.c.source_id))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_source_source_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_cases_source_ref'), ['source_ref'])
        for name in (*reversed(CFPB_FIELDS), 'source_id', 'source'):
            batch_op.drop_column(name)
