"""Lets plain ``nbgrader`` commands and the formgrader, run from the repository root, use the
course configuration, which lives with the rest of the instructor side in grading/."""

c = get_config()  # noqa: F821 - injected by traitlets
load_subconfig("grading/nbgrader_config.py")  # noqa: F821
