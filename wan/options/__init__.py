"""What a render can be given besides the Deforum settings: RenderOptions (pydantic 1 and 2),
the closed lists of choices, the checks and the CLI flags generated from the options."""
