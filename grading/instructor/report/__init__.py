"""The class report of a graded folder, written after the run's output (and again by
``python -m grading.report``):

* :mod:`.class_report`: ``report.json`` and ``report.html``, from the results.
* :mod:`.report_page`: ``report.html``: one self-contained page.
* :mod:`.results`: ``results.json``: the course facts and one record per student.
* :mod:`.hints`: which student-side hints fired, mapped to the mistakes they name.
* :mod:`.similarity`: possible copies, per TODO, for a human to review.
"""
