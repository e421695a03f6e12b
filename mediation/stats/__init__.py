"""Statistics: the dashboard, the monthly report and its exports, zero reports (issue 7)."""
