"""The staff partner list: partners with their figures (clicks, customers, revenue, commissions due),
sortable and filterable, with bulk changes and a CSV export. It is reporting's because the figures come
from the rollups and the commissions (DESIGN.md: a page lives in the rightmost app it reads)."""
