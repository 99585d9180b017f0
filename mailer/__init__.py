"""announce: weekly seminar announcements from one YAML record per talk.

"contract §N" in the code is section N of docs/reference/contract.md, what users type, write
and receive. Its version is :func:`mailer.version.version`.
"""
