"""Adding partners from a CSV file: upload, a preview with each row's problems in plain words, then the
import in the background (Celery) with its progress, and each row's outcome kept.

- `reading.py` turns the file into rows and says what is wrong with each (no database writes);
- `models.py` keeps one import: its rows, where it got to, and each row's result;
- `services.py` creates the import, starts it, and imports rows through `create_partner` (so each new
  partner gets its default link and code at once, like any other partner);
- `tasks.py` runs it; `views.py` are the pages.
"""
