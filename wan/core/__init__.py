"""The pure core: Deforum's settings, schedules and prompts, the camera motion, the clip plan.
No torch, no files written, no globals; imports only wan.errors, wan.paths and wan.limits."""
