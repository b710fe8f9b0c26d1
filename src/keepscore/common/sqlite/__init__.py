"""Django's SQLite backend, with write transactions taken in the order they asked
(``base.WriterQueue``): ``DATABASES["default"]["ENGINE"] = "keepscore.common.sqlite"``."""
