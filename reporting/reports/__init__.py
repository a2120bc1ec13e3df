"""Reports: the dashboard and portal report (build.py) and the scheduled emailed reports (scheduled.py, tasks.py)."""
