"""The seven systems, each a package with an app.py declaring `app = App(...)`."""
