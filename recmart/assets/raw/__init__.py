"""Raw layer: landing files and the nightly database export, as they came."""

from recmart.assets.raw.checks import EXPORT_CHECKS, raw_clickstream_has_every_landed_line
from recmart.assets.raw.clickstream import raw_clickstream
from recmart.assets.raw.products import raw_products
from recmart.assets.raw.transactions import raw_transactions
from recmart.assets.raw.users import raw_users
from recmart.assets.table_checks import table_checks

ASSETS = [raw_clickstream, raw_transactions, raw_products, raw_users]
CHECKS = [raw_clickstream_has_every_landed_line, *EXPORT_CHECKS, *table_checks(ASSETS)]
SENSORS: list = []
