"""The instructor's side of the grader: nothing here runs in a student's kernel."""
