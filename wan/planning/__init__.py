"""Requests to plans: one path from settings and options to the plan and its JSON (the CLI's
`plan`, POST /plan, the tab's Plan button), and the camera motion plot."""
