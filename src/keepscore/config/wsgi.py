"""The WSGI entry point gunicorn serves (keepscore serve)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keepscore.config.settings")
application = get_wsgi_application()
