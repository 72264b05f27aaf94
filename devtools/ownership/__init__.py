"""Ownership and cleanup: the not-mine scan, giving files back, the clean plan and its execution.

Containers run as root and write into bind mounts; these modules find what the developer no
longer owns, give it back (directly when we may, else through a short-lived root container), and
tear a track down without ever deleting a tracked file or touching anything outside the worktree.
"""
