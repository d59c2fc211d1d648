"""Reading Deforum animations: settings, schedules, seeds and prompts (pure, no side effects)."""
