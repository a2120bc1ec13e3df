"""Plain Python shared by every app: no models, and no import of any app (DESIGN.md, "Architecture")."""
