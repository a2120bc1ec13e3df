import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the URL configuration (and the views it imports) now rather than on the first request, then
# keep everything loaded so far, which lives as long as the process, out of the garbage collector's
# walks: a full collection during a request then scans only what requests made (shorter pauses in
# the tail latency, e.g. of /r/<code>).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.freeze()
